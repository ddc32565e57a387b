import type { Form } from '../lib/bindings/Form';
import { FIELDS } from '../lib/fields';

export const DEFAULTS: Record<string, string> = {
  'global.enabled': 'false',
  'global.port': '25',
  'global.security': 'none',
  'global.auth': 'none',
  'global.utf8_headers': 'false',
  'global.timeout_secs': '10',
  'global.tls_verify': 'true',
  'global.m365.flow': 'delegated',
  'global.m365.cloud': 'global',
  'support.allow_client_address': 'false',
  'support.attach_system_info': 'false',
};

/** A Form as `load_form` returns it: every non-secret key present, `""` when unset. */
export function makeForm(values: Record<string, string> = {}, over: Partial<Form> = {}): Form {
  const all = Object.fromEntries(FIELDS.filter((f) => f.control !== 'secret').map((f) => [f.key, '']));
  return {
    values: { ...all, ...values },
    defaults: { ...DEFAULTS },
    secrets: { 'global.password': false, 'global.m365.client_secret': false },
    problems: [],
    config_path: '/home/admin/.config/postdesk/config.json',
    notice: null,
    keychain_error: null,
    redirect_uri: 'http://localhost/postdesk/callback',
    ...over,
  };
}
