// Generated from the settings declared on the model's fields (core/src/settings.rs, `make bindings`). Do not edit.
import type { Field } from './Field';

/** Every scope's keys: name, kind (with an enum's choices), default, label, inherited. */
export const SETTINGS = {
  "server": [
    {
      "name": "enabled",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Use mail server",
      "inherited": false
    },
    {
      "name": "email_type",
      "kind": {
        "type": "enum",
        "choices": [
          "smtp",
          "sendmail"
        ]
      },
      "default": "smtp",
      "label": "Email type",
      "inherited": true
    },
    {
      "name": "sendmail_path",
      "kind": {
        "type": "path"
      },
      "default": "/usr/sbin/sendmail",
      "label": "sendmail program",
      "inherited": true
    },
    {
      "name": "host",
      "kind": {
        "type": "host"
      },
      "default": null,
      "label": "Mail server",
      "inherited": true
    },
    {
      "name": "port",
      "kind": {
        "type": "port"
      },
      "default": "25",
      "label": "Port",
      "inherited": true
    },
    {
      "name": "security",
      "kind": {
        "type": "enum",
        "choices": [
          "none",
          "starttls",
          "tls"
        ]
      },
      "default": "none",
      "label": "Encryption",
      "inherited": true
    },
    {
      "name": "auth",
      "kind": {
        "type": "enum",
        "choices": [
          "none",
          "password",
          "m365-smtp",
          "m365-graph"
        ]
      },
      "default": "none",
      "label": "Authentication",
      "inherited": true
    },
    {
      "name": "username",
      "kind": {
        "type": "command_text"
      },
      "default": null,
      "label": "Username",
      "inherited": true
    },
    {
      "name": "password",
      "kind": {
        "type": "secret"
      },
      "default": null,
      "label": "Password",
      "inherited": true
    },
    {
      "name": "sender.address",
      "kind": {
        "type": "email"
      },
      "default": null,
      "label": "Sender address",
      "inherited": true
    },
    {
      "name": "sender.name",
      "kind": {
        "type": "display_name"
      },
      "default": null,
      "label": "Sender name",
      "inherited": true
    },
    {
      "name": "reply_to.address",
      "kind": {
        "type": "email"
      },
      "default": null,
      "label": "Reply-To address",
      "inherited": true
    },
    {
      "name": "reply_to.name",
      "kind": {
        "type": "display_name"
      },
      "default": null,
      "label": "Reply-To name",
      "inherited": true
    },
    {
      "name": "utf8_headers",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "UTF-8 headers (RFC 6532)",
      "inherited": true
    },
    {
      "name": "timeout_secs",
      "kind": {
        "type": "seconds"
      },
      "default": "10",
      "label": "Timeout (seconds)",
      "inherited": true
    },
    {
      "name": "data_timeout_secs",
      "kind": {
        "type": "seconds"
      },
      "default": "600",
      "label": "Wait for the end of a message (seconds)",
      "inherited": true
    },
    {
      "name": "ca_file",
      "kind": {
        "type": "path"
      },
      "default": null,
      "label": "Extra CA file",
      "inherited": true
    },
    {
      "name": "tls_verify",
      "kind": {
        "type": "bool"
      },
      "default": "true",
      "label": "Verify TLS certificates",
      "inherited": true
    },
    {
      "name": "helo_name",
      "kind": {
        "type": "host"
      },
      "default": null,
      "label": "EHLO name",
      "inherited": true
    },
    {
      "name": "m365.tenant",
      "kind": {
        "type": "tenant"
      },
      "default": null,
      "label": "Tenant ID",
      "inherited": true
    },
    {
      "name": "m365.client_id",
      "kind": {
        "type": "guid"
      },
      "default": null,
      "label": "Client ID",
      "inherited": true
    },
    {
      "name": "m365.client_secret",
      "kind": {
        "type": "secret"
      },
      "default": null,
      "label": "Client secret",
      "inherited": true
    },
    {
      "name": "m365.flow",
      "kind": {
        "type": "enum",
        "choices": [
          "delegated",
          "app"
        ]
      },
      "default": "delegated",
      "label": "Sign-in flow",
      "inherited": true
    },
    {
      "name": "m365.cloud",
      "kind": {
        "type": "enum",
        "choices": [
          "global",
          "usgov",
          "usgov-dod",
          "china"
        ]
      },
      "default": "global",
      "label": "Cloud",
      "inherited": true
    },
    {
      "name": "m365.authority",
      "kind": {
        "type": "url"
      },
      "default": null,
      "label": "Login URL override",
      "inherited": true
    },
    {
      "name": "m365.graph_url",
      "kind": {
        "type": "url"
      },
      "default": null,
      "label": "Graph URL override",
      "inherited": true
    },
    {
      "name": "m365.allow_custom_endpoints",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Allow login and Graph URLs outside Microsoft's clouds",
      "inherited": true
    },
    {
      "name": "m365.secret_expires",
      "kind": {
        "type": "date"
      },
      "default": null,
      "label": "Client secret expires",
      "inherited": true
    }
  ],
  "client": [
    {
      "name": "name",
      "kind": {
        "type": "label"
      },
      "default": null,
      "label": "Client name",
      "inherited": true
    },
    {
      "name": "support.address",
      "kind": {
        "type": "email"
      },
      "default": null,
      "label": "Client support address",
      "inherited": true
    },
    {
      "name": "sender.alternatives",
      "kind": {
        "type": "address_list"
      },
      "default": null,
      "label": "Sender alternatives (addresses, one per line)",
      "inherited": true
    },
    {
      "name": "sender.conceal",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Sender concealed (system address, user's name)",
      "inherited": true
    },
    {
      "name": "reply_to.alternatives",
      "kind": {
        "type": "address_list"
      },
      "default": null,
      "label": "Reply-To alternatives (addresses, one per line)",
      "inherited": true
    },
    {
      "name": "reply_to.conceal",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Reply-To concealed (system address, user's name)",
      "inherited": true
    }
  ],
  "route": [
    {
      "name": "from",
      "kind": {
        "type": "from_pattern"
      },
      "default": null,
      "label": "From address pattern",
      "inherited": true
    },
    {
      "name": "order",
      "kind": {
        "type": "order"
      },
      "default": "100",
      "label": "Order among equally specific routes",
      "inherited": true
    }
  ],
  "support": [
    {
      "name": "address",
      "kind": {
        "type": "email"
      },
      "default": null,
      "label": "Support request address",
      "inherited": true
    },
    {
      "name": "allow_client_address",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Allow client-specific support address",
      "inherited": true
    },
    {
      "name": "attach_system_info",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Attach system information",
      "inherited": true
    }
  ],
  "receiver": [
    {
      "name": "enabled",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Use receiver",
      "inherited": true
    },
    {
      "name": "protocol",
      "kind": {
        "type": "enum",
        "choices": [
          "imap",
          "imap-starttls",
          "imaps",
          "pop3",
          "pop3-stls",
          "pop3s"
        ]
      },
      "default": "imaps",
      "label": "Protocol",
      "inherited": true
    },
    {
      "name": "host",
      "kind": {
        "type": "host"
      },
      "default": null,
      "label": "Receiver server",
      "inherited": true
    },
    {
      "name": "port",
      "kind": {
        "type": "port"
      },
      "default": null,
      "label": "Port",
      "inherited": true
    },
    {
      "name": "username",
      "kind": {
        "type": "command_text"
      },
      "default": null,
      "label": "Username",
      "inherited": true
    },
    {
      "name": "password",
      "kind": {
        "type": "secret"
      },
      "default": null,
      "label": "Password",
      "inherited": true
    },
    {
      "name": "ca_file",
      "kind": {
        "type": "path"
      },
      "default": null,
      "label": "Extra CA file",
      "inherited": true
    },
    {
      "name": "before_send",
      "kind": {
        "type": "bool"
      },
      "default": "false",
      "label": "Log in before each send",
      "inherited": true
    }
  ],
  "templates": [
    {
      "name": "subject",
      "kind": {
        "type": "template_subject"
      },
      "default": null,
      "label": "Subject",
      "inherited": true
    },
    {
      "name": "body",
      "kind": {
        "type": "template_body"
      },
      "default": null,
      "label": "Body",
      "inherited": true
    }
  ],
  "limits": [
    {
      "name": "max_per_day",
      "kind": {
        "type": "count"
      },
      "default": "0",
      "label": "Mails per 24 hours (0 = no limit)",
      "inherited": true
    },
    {
      "name": "ignore_dne_for",
      "kind": {
        "type": "enum",
        "choices": [
          "none",
          "priority",
          "all"
        ]
      },
      "default": "none",
      "label": "Ignore the Do-Not-Email list for",
      "inherited": true
    }
  ],
  "send": [
    {
      "name": "local_domain",
      "kind": {
        "type": "domain"
      },
      "default": null,
      "label": "Domain for bare local names (root → root@domain)",
      "inherited": true
    }
  ],
  "proxy": [
    {
      "name": "url",
      "kind": {
        "type": "proxy_url"
      },
      "default": null,
      "label": "Proxy (http://host:port)",
      "inherited": true
    },
    {
      "name": "no_proxy",
      "kind": {
        "type": "no_proxy"
      },
      "default": null,
      "label": "No proxy for (comma list)",
      "inherited": true
    },
    {
      "name": "username",
      "kind": {
        "type": "command_text"
      },
      "default": null,
      "label": "Proxy user name",
      "inherited": true
    },
    {
      "name": "password",
      "kind": {
        "type": "secret"
      },
      "default": null,
      "label": "Proxy password",
      "inherited": true
    }
  ]
} satisfies Record<string, Field[]>;
