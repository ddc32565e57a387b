// Everything the window's first frame (the settings form, Base section) does not show: the
// sidebar's other views, the Security and Support sections' panels and the dialogs. The shell
// (App.svelte, lib/shell/) imports it with import() when one is first shown, so Vite puts it
// into a chunk of its own and the first frame parses and runs less JavaScript (README
// "Performance").
export { default as ClientsView } from './components/ClientsView.svelte';
export { default as RoutesView } from './components/RoutesView.svelte';
export { default as Templates } from './components/Templates.svelte';
export { default as DoNotEmail } from './components/DoNotEmail.svelte';
export { default as M365SignIn } from './components/M365SignIn.svelte';
export { default as RedirectUri } from './components/RedirectUri.svelte';
export { default as SecretExpiry } from './components/SecretExpiry.svelte';
export { default as ReceiverPanel } from './components/ReceiverPanel.svelte';
export { default as SupportRequest } from './components/SupportRequest.svelte';
// The export/import dialogs and the unsaved-changes prompt, loaded when one first opens.
export { default as TransferDialogs } from './components/TransferDialogs.svelte';
export { default as CloseDialog } from './components/CloseDialog.svelte';
