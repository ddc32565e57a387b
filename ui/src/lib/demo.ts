// An in-memory stand-in for the Rust backend, for `npm run dev` in a plain browser only
// (see api.ts). Its checks imitate a few of the real ones; the real rules live in Rust.

import type { Backend } from './api';
import type { Form } from './bindings/Form';
import type { Problem } from './bindings/Problem';
import type { SecretChange } from './bindings/SecretChange';
import { FIELDS } from './fields';

const DEFAULTS: Record<string, string> = {
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

const ENUMS: Record<string, string[]> = {
  'global.auth': ['none', 'password', 'm365-smtp', 'm365-graph'],
  'global.security': ['none', 'starttls', 'tls'],
  'global.m365.flow': ['delegated', 'app'],
  'global.m365.cloud': ['global', 'usgov', 'usgov-dod', 'china'],
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const HOST = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function checkValue(key: string, v: string): string | null {
  if (/[\r\n]/.test(v)) return 'must not contain line breaks (CR or LF)';
  if (ENUMS[key] && !ENUMS[key].includes(v)) return `must be one of: ${ENUMS[key].join(', ')}`;
  const field = FIELDS.find((f) => f.key === key);
  if (field?.control === 'switch' && v !== 'true' && v !== 'false') return 'must be true or false';
  if (key === 'global.port' && !(/^\d+$/.test(v) && +v >= 1 && +v <= 65535))
    return 'must be a whole number from 1 to 65535';
  if (key === 'global.timeout_secs' && !(/^\d+$/.test(v) && +v >= 1 && +v <= 600))
    return 'must be a whole number of seconds from 1 to 600';
  if (key === 'global.host' && !HOST.test(v)) return 'is not a valid host name';
  if (field?.control === 'email' && !EMAIL.test(v)) return 'is not an e-mail address (like it@example.com)';
  if (key === 'global.m365.client_id' && !GUID.test(v))
    return 'must be a GUID like 00000000-0000-0000-0000-000000000000 (Application (client) ID in Entra)';
  if (key === 'global.m365.tenant' && !GUID.test(v) && !(v.includes('.') && HOST.test(v)))
    return 'must be the Directory (tenant) ID, a GUID, or a domain such as contoso.onmicrosoft.com';
  if ((key === 'global.m365.authority' || key === 'global.m365.graph_url') && !/^https:\/\/[^/?#]+/.test(v))
    return 'must start with https://';
  if (key === 'global.m365.secret_expires' && !/^\d{4}-\d{2}-\d{2}$/.test(v)) return 'must be a date YYYY-MM-DD';
  if (key === 'global.ca_file' && !v.startsWith('/')) return 'must be an absolute path to a PEM file';
  return null;
}

function validate(values: Record<string, string>, secrets: Record<string, boolean>): Problem[] {
  const out: Problem[] = [];
  const get = (k: string) => (values[k] ?? '') || (DEFAULTS[k] ?? '');
  for (const [key, v] of Object.entries(values)) {
    const message = v === '' ? null : checkValue(key, v);
    if (message) out.push({ key, severity: 'error', message });
  }
  if (get('global.enabled') !== 'true') return out;
  const missing = (key: string, message: string) => {
    if (!get(key)) out.push({ key, severity: 'missing', message });
  };
  const auth = get('global.auth');
  if (auth !== 'm365-graph') missing('global.host', 'required when the mail server is used');
  missing('global.sender.address', 'required when the mail server is used');
  if (auth === 'password') {
    missing('global.username', 'required for password authentication');
    if (!secrets['global.password'])
      out.push({ key: 'global.password', severity: 'missing', message: 'not set: `postdesk secret set` or the Security section' });
    if (get('global.security') === 'none')
      out.push({ key: 'global.security', severity: 'warning', message: 'the password is sent unencrypted: choose STARTTLS or TLS' });
  }
  if (auth === 'm365-smtp' || auth === 'm365-graph') {
    missing('global.m365.tenant', 'required for Microsoft 365');
    missing('global.m365.client_id', 'required for Microsoft 365');
    if (get('global.m365.flow') === 'app' && !secrets['global.m365.client_secret'])
      out.push({ key: 'global.m365.client_secret', severity: 'missing', message: 'required for the app-only flow' });
    if (auth === 'm365-smtp' && get('global.security') === 'none')
      out.push({ key: 'global.security', severity: 'error', message: 'Microsoft 365 SMTP needs STARTTLS (smtp.office365.com, port 587)' });
  }
  if (auth !== 'm365-graph' && get('global.port') === '25')
    out.push({ key: 'global.port', severity: 'warning', message: 'port 25 is often blocked outbound: prefer 587 (STARTTLS) or 465 (TLS)' });
  if (auth !== 'm365-graph' && get('global.tls_verify') === 'false' && get('global.security') !== 'none')
    out.push({
      key: 'global.tls_verify',
      severity: 'warning',
      message: 'TLS certificates are not verified: anyone on the path can read the mail and the password',
    });
  return out;
}

export function createDemoBackend(): Backend {
  const values: Record<string, string> = Object.fromEntries(
    FIELDS.filter((f) => f.control !== 'secret').map((f) => [f.key, '']),
  );
  Object.assign(values, {
    'global.enabled': 'true',
    'global.host': 'smtp.example.com',
    'global.port': '587',
    'global.security': 'starttls',
    'global.auth': 'password',
    'global.username': 'postdesk',
    'global.sender.address': 'it@example.com',
    'global.sender.name': 'Example IT',
  });
  const secrets: Record<string, boolean> = { 'global.password': true, 'global.m365.client_secret': false };

  const apply = (edits: Record<string, string>) => ({ ...values, ...Object.fromEntries(Object.entries(edits).map(([k, v]) => [k, v.trim()])) });
  const secretsAfter = (changes: SecretChange[]) => {
    const s = { ...secrets };
    for (const c of changes) s[c.key] = !!c.value;
    return s;
  };
  const form = (): Form => ({
    values: { ...values },
    defaults: { ...DEFAULTS },
    secrets: { ...secrets },
    problems: validate(values, secrets),
    config_path: '/home/demo/.config/postdesk/config.json (demo, not saved)',
    notice: null,
    keychain_error: null,
    redirect_uri: 'http://localhost/postdesk/callback',
  });
  const later = <T>(v: T) => new Promise<T>((r) => setTimeout(() => r(v), 60));

  return {
    loadForm: () => later(form()),
    preview: (edits, changes) => later(validate(apply(edits), secretsAfter(changes))),
    save: async (edits, changes) => {
      const next = apply(edits);
      const s = secretsAfter(changes);
      const blocking = validate(next, s).filter((p) => p.severity !== 'warning');
      await later(null);
      if (blocking.length) {
        throw { message: blocking.map((p) => `${p.key}: ${p.message}`).join('\n'), problems: blocking };
      }
      Object.assign(values, next);
      Object.assign(secrets, s);
      return form();
    },
  };
}
