import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

performance.mark?.('postdesk:modules evaluated');
const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from index.html');

const app = mount(App, { target });
performance.mark?.('postdesk:mounted');
export default app;
