// The fields of the window: which key, where it is shown, how it is edited and when it
// applies. Values, defaults and validation come from the backend (see bindings/); this table
// only decides presentation.

import type { FullAutoFill } from 'svelte/elements';
import type { AuthMethod } from './bindings/AuthMethod';
import type { EmailType } from './bindings/EmailType';
import type { Form } from './bindings/Form';
import type { M365Cloud } from './bindings/M365Cloud';
import type { M365Flow } from './bindings/M365Flow';
import type { ReceiverProtocol } from './bindings/ReceiverProtocol';
import type { Security } from './bindings/Security';

export type SectionId = 'base' | 'security' | 'support';

export const SECTIONS: readonly { id: SectionId; label: string; title: string }[] = [
  { id: 'base', label: 'Base', title: 'Base settings' },
  { id: 'security', label: 'Security', title: 'Security' },
  { id: 'support', label: 'Support', title: 'Support requests' },
];

export function isSection(value: unknown): value is SectionId {
  return SECTIONS.some((s) => s.id === value);
}

export type Control = 'text' | 'number' | 'email' | 'switch' | 'select' | 'radio' | 'date' | 'secret';

export interface Choice<T extends string = string> {
  value: T;
  label: string;
  hint?: string;
}

/** Reads the effective value (draft, else default) of another key. */
export type Lookup = (key: string) => string;

export interface FieldDef {
  key: string;
  label: string;
  section: SectionId;
  control: Control;
  choices?: readonly Choice[];
  /** One line under the label. */
  help?: string | ((get: Lookup) => string | undefined);
  /** Whether the field applies to the other values; shown only then. Default: always. */
  applies?: (get: Lookup) => boolean;
  /** Shown only inside the "Advanced" disclosure of its section. */
  advanced?: boolean;
  autocomplete?: FullAutoFill;
  /** What an empty field means, when it depends on other values (else the form's default). */
  placeholder?: (get: Lookup, form: Form | null) => string | undefined;
}

export const EMAIL_TYPE_CHOICES: readonly Choice<EmailType>[] = [
  { value: 'smtp', label: 'SMTP', hint: 'Postdesk talks to a mail server (or Microsoft 365) itself.' },
  { value: 'sendmail', label: 'sendmail', hint: 'Postdesk hands each mail to a local sendmail-compatible program.' },
];

export const AUTH_CHOICES: readonly Choice<AuthMethod>[] = [
  { value: 'none', label: 'None' },
  { value: 'password', label: 'Username & password' },
  { value: 'm365-smtp', label: 'Microsoft 365 (SMTP)' },
  { value: 'm365-graph', label: 'Microsoft 365 (Graph API)' },
];

export const TRANSPORT_CHOICES: readonly Choice<AuthMethod>[] = [
  { value: 'm365-smtp', label: 'SMTP', hint: 'smtp.office365.com with an OAuth token' },
  { value: 'm365-graph', label: 'Graph API', hint: 'sendMail over HTTPS, no SMTP needed' },
];

export const SECURITY_CHOICES: readonly Choice<Security>[] = [
  { value: 'none', label: 'None' },
  { value: 'starttls', label: 'STARTTLS' },
  { value: 'tls', label: 'TLS' },
];

export const FLOW_CHOICES: readonly Choice<M365Flow>[] = [
  { value: 'delegated', label: 'Delegated', hint: 'An administrator signs in once for the sending mailbox.' },
  { value: 'app', label: 'App-only', hint: 'The app sends with its own client secret; nobody signs in.' },
];

export const CLOUD_CHOICES: readonly Choice<M365Cloud>[] = [
  { value: 'global', label: 'Global (worldwide)' },
  { value: 'usgov', label: 'US Government' },
  { value: 'usgov-dod', label: 'US Government DoD' },
  { value: 'china', label: 'China (21Vianet)' },
];

export const RECEIVER_PROTOCOL_CHOICES: readonly Choice<ReceiverProtocol>[] = [
  { value: 'imaps', label: 'IMAPS (TLS)', hint: 'IMAP over TLS from the start, usually port 993.' },
  { value: 'imap-starttls', label: 'IMAP with STARTTLS', hint: 'IMAP upgraded to TLS before logging in, usually port 143.' },
  { value: 'imap', label: 'IMAP (unencrypted)', hint: 'The password travels in clear: only on a trusted network.' },
  { value: 'pop3s', label: 'POP3S (TLS)', hint: 'POP3 over TLS from the start, usually port 995.' },
  { value: 'pop3-stls', label: 'POP3 with STLS', hint: 'POP3 upgraded to TLS before logging in, usually port 110.' },
  { value: 'pop3', label: 'POP3 (unencrypted)', hint: 'The password travels in clear: only on a trusted network.' },
];


export const isM365 = (auth: string): boolean => auth === 'm365-smtp' || auth === 'm365-graph';
/** SMTP is spoken to a mail server: every method except the Graph API. */
export const usesSmtp = (auth: string): boolean => auth !== 'm365-graph';

/** A local sendmail program delivers: no server, sign-in or encryption settings apply. */
export const usesSendmail = (get: Lookup): boolean => get('global.email_type') === 'sendmail';

/** The authentication in force; `"sendmail"` when the sendmail program delivers instead. */
const auth = (get: Lookup): string => (usesSendmail(get) ? 'sendmail' : get('global.auth') || 'none');
/** Postdesk speaks to a server itself (SMTP or Graph): not with sendmail. */
const server = (get: Lookup): boolean => !usesSendmail(get);
/** SMTP to a mail server: neither sendmail nor the Graph API. */
const smtp = (get: Lookup): boolean => server(get) && usesSmtp(auth(get));

/** The receiver (receive-before-send) is switched on; it applies to SMTP servers only. */
const receiverOn = (get: Lookup): boolean => smtp(get) && get('receiver.enabled') === 'true';

export const FIELDS: readonly FieldDef[] = [
  // Base
  {
    key: 'global.enabled',
    label: 'Use mail server',
    section: 'base',
    control: 'switch',
    help: 'When off, Postdesk sends no mail at all.',
  },
  {
    key: 'global.email_type',
    label: 'Email type',
    section: 'base',
    control: 'select',
    choices: EMAIL_TYPE_CHOICES,
    help: (get) => EMAIL_TYPE_CHOICES.find((c) => c.value === (get('global.email_type') || 'smtp'))?.hint,
  },
  {
    key: 'global.sendmail_path',
    label: 'sendmail program',
    section: 'base',
    control: 'text',
    autocomplete: 'off',
    applies: usesSendmail,
    help: 'Absolute path to a sendmail-compatible program (sendmail, Postfix, Exim, msmtp…).',
  },
  {
    key: 'global.auth',
    label: 'Authentication',
    section: 'base',
    control: 'select',
    choices: AUTH_CHOICES,
    applies: server,
  },
  {
    key: 'global.host',
    label: 'Mail server host',
    section: 'base',
    control: 'text',
    applies: smtp,
    help: (get) =>
      auth(get) === 'm365-smtp' ? 'For Microsoft 365: smtp.office365.com' : 'Host name or IP address, without the port.',
  },
  {
    key: 'global.port',
    label: 'Port',
    section: 'base',
    control: 'number',
    applies: smtp,
    help: 'Usually 587 with STARTTLS or 465 with TLS.',
  },
  { key: 'global.sender.address', label: 'Sender address', section: 'base', control: 'email', autocomplete: 'off' },
  { key: 'global.sender.name', label: 'Sender name', section: 'base', control: 'text' },
  { key: 'global.reply_to.address', label: 'Reply-To address', section: 'base', control: 'email', autocomplete: 'off' },
  { key: 'global.reply_to.name', label: 'Reply-To name', section: 'base', control: 'text' },
  {
    key: 'global.utf8_headers',
    label: 'UTF-8 headers (RFC 6532)',
    section: 'base',
    control: 'switch',
    help: 'Allow internationalized addresses and raw UTF-8 in headers; the server must support SMTPUTF8.',
  },

  // Security: password
  {
    key: 'global.username',
    label: 'Username',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: (get) => auth(get) === 'password',
  },
  {
    key: 'global.password',
    label: 'Password',
    section: 'security',
    control: 'secret',
    applies: (get) => auth(get) === 'password',
    help: 'Kept in the system keychain, never shown again.',
  },
  {
    key: 'global.security',
    label: 'Encryption',
    section: 'security',
    control: 'select',
    choices: SECURITY_CHOICES,
    applies: smtp,
    help: (get) =>
      auth(get) === 'm365-smtp'
        ? 'Microsoft 365 SMTP needs STARTTLS (port 587).'
        : 'STARTTLS upgrades a plain connection (port 587); TLS encrypts from the start (port 465).',
  },

  // Security: Microsoft 365
  {
    key: 'global.m365.tenant',
    label: 'Tenant ID',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: (get) => isM365(auth(get)),
    help: 'Directory (tenant) ID, or a domain such as contoso.onmicrosoft.com.',
  },
  {
    key: 'global.m365.client_id',
    label: 'Client ID',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: (get) => isM365(auth(get)),
    help: 'Application (client) ID of the app registration in Microsoft Entra.',
  },
  {
    key: 'global.m365.flow',
    label: 'Flow',
    section: 'security',
    control: 'select',
    choices: FLOW_CHOICES,
    applies: (get) => isM365(auth(get)),
    help: (get) => FLOW_CHOICES.find((c) => c.value === get('global.m365.flow'))?.hint,
  },
  {
    key: 'global.m365.client_secret',
    label: 'Client secret',
    section: 'security',
    control: 'secret',
    applies: (get) => isM365(auth(get)),
    help: (get) =>
      get('global.m365.flow') === 'app'
        ? 'Required for the app-only flow. Kept in the system keychain.'
        : 'Only needed if the app registration requires one. Kept in the system keychain.',
  },
  {
    key: 'global.m365.secret_expires',
    label: 'Client secret expiry date',
    section: 'security',
    control: 'date',
    applies: (get) => isM365(auth(get)),
    help: 'As shown in Entra under Certificates & secrets; Postdesk warns 30 days ahead.',
  },
  {
    key: 'global.m365.cloud',
    label: 'Cloud',
    section: 'security',
    control: 'select',
    choices: CLOUD_CHOICES,
    applies: (get) => isM365(auth(get)),
  },
  {
    key: 'global.m365.authority',
    label: 'Login URL override',
    section: 'security',
    control: 'text',
    advanced: true,
    autocomplete: 'off',
    applies: (get) => isM365(auth(get)),
    help: 'Leave empty to use the cloud’s sign-in host.',
  },
  {
    key: 'global.m365.graph_url',
    label: 'Graph URL override',
    section: 'security',
    control: 'text',
    advanced: true,
    autocomplete: 'off',
    applies: (get) => auth(get) === 'm365-graph',
    help: 'Leave empty to use the cloud’s Graph host.',
  },
  {
    key: 'global.m365.allow_custom_endpoints',
    label: 'Allow URLs outside Microsoft’s clouds',
    section: 'security',
    control: 'switch',
    advanced: true,
    applies: (get) => isM365(auth(get)),
    help: 'Off: the overrides may only name Microsoft’s sign-in and Graph hosts (or this computer). The client secret and tokens go to these URLs.',
  },

  // Security: the HTTP proxy for Entra ID and Graph
  {
    key: 'proxy.url',
    label: 'Proxy',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    placeholder: () => 'http://proxy.example.com:3128',
    applies: (get) => isM365(auth(get)),
    help: 'HTTP proxy for sign-in and Graph, as http://host:port. Empty: HTTPS_PROXY and NO_PROXY, then the desktop’s proxy setting.',
  },
  {
    key: 'proxy.no_proxy',
    label: 'No proxy for',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: (get) => isM365(auth(get)) && get('proxy.url') !== '',
    help: 'Comma list reached directly: host suffixes (example.com, .example.com), *, IP addresses and networks (10.0.0.0/8).',
  },
  {
    key: 'proxy.username',
    label: 'Proxy user name',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: (get) => isM365(auth(get)) && get('proxy.url') !== '',
    help: 'For a proxy that asks for a login (Basic). Leave empty for none.',
  },
  {
    key: 'proxy.password',
    label: 'Proxy password',
    section: 'security',
    control: 'secret',
    applies: (get) => isM365(auth(get)) && get('proxy.url') !== '' && get('proxy.username') !== '',
    help: 'Kept in the system keychain.',
  },

  // Security: connection (SMTP methods)
  {
    key: 'global.timeout_secs',
    label: 'Timeout (seconds)',
    section: 'security',
    control: 'number',
    applies: smtp,
    help: 'How long to wait for the mail server, 1 to 600 seconds.',
  },
  {
    key: 'global.data_timeout_secs',
    label: 'Wait for acceptance (seconds)',
    section: 'security',
    control: 'number',
    applies: smtp,
    help: 'How long to wait for the server to accept the message after sending it (content filters can be slow), 1 to 600 seconds. RFC 5321 recommends 600; a shorter wait can report a mail as failed that the server then delivers.',
  },
  {
    key: 'global.tls_verify',
    label: 'Verify TLS certificates',
    section: 'security',
    control: 'switch',
    applies: smtp,
    help: 'Check that the server’s certificate is valid and matches the host name.',
  },
  {
    key: 'global.helo_name',
    label: 'EHLO name',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: smtp,
    help: 'The name Postdesk gives itself when it greets the server, e.g. this computer’s DNS name if the server checks it. Empty: the address it connects from.',
    placeholder: () => 'the address it connects from, e.g. [192.0.2.10]',
  },
  {
    key: 'global.ca_file',
    label: 'Extra CA file',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: smtp,
    help: 'Absolute path to a PEM certificate to trust besides the system’s, e.g. for an internal CA.',
  },

  // Security: receiver (receive-before-send)
  {
    key: 'receiver.enabled',
    label: 'Log in to a mailbox (receive before send)',
    section: 'security',
    control: 'switch',
    applies: smtp,
    help: 'For servers that take mail only from a client that has just logged in to a mailbox (POP3 or IMAP before SMTP).',
  },
  {
    key: 'receiver.protocol',
    label: 'Protocol',
    section: 'security',
    control: 'select',
    choices: RECEIVER_PROTOCOL_CHOICES,
    applies: receiverOn,
    help: (get) => RECEIVER_PROTOCOL_CHOICES.find((c) => c.value === get('receiver.protocol'))?.hint,
  },
  {
    key: 'receiver.host',
    label: 'Mailbox server host',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: receiverOn,
    help: 'Host name or IP address of the IMAP or POP3 server, without the port.',
  },
  {
    key: 'receiver.port',
    label: 'Port',
    section: 'security',
    control: 'number',
    applies: receiverOn,
    placeholder: (get, form) => form?.receiver_ports[get('receiver.protocol')]?.toString(),
    help: 'Empty: the protocol’s usual port.',
  },
  {
    key: 'receiver.username',
    label: 'Username',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: receiverOn,
  },
  {
    key: 'receiver.password',
    label: 'Password',
    section: 'security',
    control: 'secret',
    applies: receiverOn,
    help: 'Kept in the system keychain, never shown again.',
  },
  {
    key: 'receiver.ca_file',
    label: 'Extra CA file',
    section: 'security',
    control: 'text',
    autocomplete: 'off',
    applies: receiverOn,
    help: 'Absolute path to a PEM certificate to trust besides the system’s, e.g. for an internal CA.',
  },
  {
    key: 'receiver.before_send',
    label: 'Log in before each send',
    section: 'security',
    control: 'switch',
    applies: receiverOn,
    help: 'Every mail (test mails included) first logs in to this mailbox; the test shows it as a step.',
  },

  // Support
  {
    key: 'support.address',
    label: 'Support request address',
    section: 'support',
    control: 'email',
    autocomplete: 'off',
    help: 'Where support requests go.',
  },
  {
    key: 'support.allow_client_address',
    label: 'Allow client-specific support address',
    section: 'support',
    control: 'switch',
    help: 'Clients may set their own support address.',
  },
  {
    key: 'support.attach_system_info',
    label: 'Attach system information',
    section: 'support',
    control: 'switch',
    help: 'Add system information to support requests.',
  },
];

const BY_KEY = new Map(FIELDS.map((f) => [f.key, f]));

export function fieldFor(key: string): FieldDef | undefined {
  return BY_KEY.get(key);
}

export const SECRET_KEYS: readonly string[] = FIELDS.filter((f) => f.control === 'secret').map((f) => f.key);

export function helpText(field: FieldDef, get: Lookup): string | undefined {
  return typeof field.help === 'function' ? field.help(get) : field.help;
}

/** A DOM id for a key (`global.sender.address` → `f-global-sender-address`). */
export function fieldId(key: string): string {
  return 'f-' + key.replace(/[^A-Za-z0-9_-]/g, '-');
}
