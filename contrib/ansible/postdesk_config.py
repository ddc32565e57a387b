#!/usr/bin/python
# -*- coding: utf-8 -*-
# Postdesk's Ansible module: applies an export file (`postdesk export`) and secrets to a
# machine through the `postdesk` command line, idempotently, with check and diff modes.
# Secrets go to postdesk on its standard input and are never part of a result, a diff or a
# message. Tested by tests/fleet.rs with ansible-core (make test).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postdesk_config
short_description: Apply a Postdesk configuration file and secrets
description:
  - Imports an export file made by C(postdesk export) with C(postdesk import --json), so the
    task reports C(changed) only when the settings really change; applying the same file
    again changes nothing.
  - Stores secrets in the OS keychain with C(postdesk secret set KEY --json), each passed on
    standard input and compared with the stored value inside postdesk; values are never
    printed, returned or shown in a diff.
  - Check mode uses C(--dry-run --json) and changes nothing. Diff mode lists the keys that
    change (added, changed, removed, secrets set), never a secret value.
options:
  src:
    description: Export file on the managed machine (C(postdesk export FILE)).
    type: path
  passphrase_file:
    description: File holding the passphrase of the secrets encrypted in I(src), if it carries any.
    type: path
  data_dir:
    description: Postdesk's data directory (C(--data-dir)); default the OS app-data directory.
    type: path
  secrets:
    description:
      - Secret key to value, e.g. C(global.password) or C(client.acme.m365.client_secret).
      - Stored in the OS keychain after the import (so secrets of clients the file adds work).
    type: dict
    default: {}
  allow_redirect:
    description:
      - Apply I(src) even where it changes where a stored secret is sent or which program
        runs (C(postdesk import --allow-redirect)); without it such a file fails the task
        and nothing changes.
    type: bool
    default: false
  binary:
    description: Path of the C(postdesk) program; default the one on C(PATH).
    type: path
requirements:
  - postdesk on the managed machine, with its OS keychain reachable (on Linux the user's Secret Service)
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Outgoing mail settings from the central export
  postdesk_config:
    src: /etc/postdesk/org-export.json
    secrets:
      global.password: "{{ vault_smtp_password }}"
  no_log: false  # the module already hides the secrets; keep task output visible

- name: Apply a file that moves the SMTP host (stored password follows)
  postdesk_config:
    src: /etc/postdesk/new-host.json
    allow_redirect: true
"""

RETURN = r"""
changed:
  description: Whether the settings or any secret changed (or would, in check mode).
  type: bool
added:
  description: Keys the import adds.
  type: list
  elements: str
changed_keys:
  description: Keys whose value the import changes (C(dne) for the Do-Not-Email list).
  type: list
  elements: str
removed:
  description: Keys the import removes.
  type: list
  elements: str
secrets:
  description: Secret keys stored (or that would be) in the keychain; never their values.
  type: list
  elements: str
secrets_missing:
  description: Secrets the file says the machine needs that are still not set.
  type: list
  elements: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def run_json(module, argv, what, data=None):
    """Runs postdesk; its stdout must be one JSON object. Fails the task with postdesk's own
    error lines otherwise (they never hold a secret)."""
    rc, out, err = module.run_command(argv, data=data, binary_data=False, encoding="utf-8")
    if rc != 0:
        lines = [line.replace("postdesk: ", "", 1) for line in err.strip().splitlines()] or ["(no message)"]
        module.fail_json(msg="%s failed (exit %d): %s" % (what, rc, "; ".join(lines)), rc=rc, stderr=err)
    try:
        value = json.loads(out)
    except ValueError:
        module.fail_json(msg="%s: postdesk did not print JSON (is %s a postdesk with --json?)" % (what, argv[0]), rc=rc, stderr=err)
    if not isinstance(value, dict):
        module.fail_json(msg="%s: postdesk printed JSON that is not an object" % what)
    return value


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path"),
            passphrase_file=dict(type="path", no_log=False),
            data_dir=dict(type="path"),
            secrets=dict(type="dict", default={}, no_log=True),
            allow_redirect=dict(type="bool", default=False),
            binary=dict(type="path"),
        ),
        required_one_of=[("src", "secrets")],
        supports_check_mode=True,
    )
    p = module.params
    if p["binary"]:
        binary = p["binary"]
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            module.fail_json(msg="binary: %s is not an executable file" % binary)
    else:
        binary = module.get_bin_path("postdesk")
        if not binary:
            module.fail_json(msg="binary: postdesk is not on PATH (%s); install it or give binary" % os.environ.get("PATH", ""))
    base = [binary]
    if p["data_dir"]:
        base += ["--data-dir", p["data_dir"]]

    result = dict(changed=False, added=[], changed_keys=[], removed=[], secrets=[], secrets_missing=[])
    secrets = p["secrets"] or {}
    # Every secret is checked first (a secret key, a usable value; compared with the stored
    # one, nothing stored), so a wrong one fails the task before anything changes.
    pending = []
    for key in sorted(secrets):
        value = secrets[key]
        if value is None or not isinstance(value, str) or value == "":
            module.fail_json(msg="secrets: the value of %s must be a non-empty string" % key)
        # The value on stdin (run_command adds the newline postdesk drops), never in argv.
        answer = run_json(module, base + ["secret", "set", key, "--json", "--dry-run"], "postdesk secret set %s" % key, data=value)
        if answer.get("changed"):
            pending.append(key)

    if p["src"]:
        src = p["src"]
        if not os.path.isfile(src):
            module.fail_json(msg="src: %s does not exist or is not a file" % src)
        if not os.access(src, os.R_OK):
            module.fail_json(msg="src: %s cannot be read" % src)
        argv = base + ["import", src, "--json"]
        if p["passphrase_file"]:
            argv += ["--passphrase-file", p["passphrase_file"]]
        if module.check_mode:
            report = run_json(module, argv + ["--dry-run"], "postdesk import --dry-run %s" % src)
            # The real run would refuse these: so does check mode.
            if report.get("redirects") and not p["allow_redirect"]:
                module.fail_json(
                    msg="src: %s changes where stored secrets are sent or which program runs (set allow_redirect: true to apply it): %s"
                    % (src, "; ".join(report["redirects"]))
                )
        else:
            if p["allow_redirect"]:
                argv.append("--allow-redirect")
            report = run_json(module, argv, "postdesk import %s" % src)
        for k in ("added", "changed_keys", "removed", "secrets", "secrets_missing"):
            result[k] = list(report.get(k, []))
        result["changed"] = bool(report.get("changed"))

    # After the import, so the secrets of clients and routes it adds have their scope.
    for key in pending:
        if not module.check_mode:
            answer = run_json(module, base + ["secret", "set", key, "--json"], "postdesk secret set %s" % key, data=secrets[key])
            if not answer.get("changed"):
                continue
        result["changed"] = True
        if key not in result["secrets"]:
            result["secrets"].append(key)
    given = set(secrets)
    result["secrets_missing"] = [k for k in result["secrets_missing"] if k not in given]
    if result["secrets_missing"] and not module.check_mode:
        still = []
        for key in result["secrets_missing"]:
            rc, out, _ = module.run_command(base + ["config", "get", key], encoding="utf-8")
            if rc != 0 or out.strip() != "<set>":
                still.append(key)
        result["secrets_missing"] = still
    for key in result["secrets_missing"]:
        module.warn("%s is needed by the configuration but not set: give it in secrets" % key)

    if module._diff and result["changed"]:
        rows = (
            [("+", k, "added") for k in result["added"]]
            + [("~", k, "changed") for k in result["changed_keys"]]
            + [("-", k, "removed") for k in result["removed"]]
            + [("*", k, "secret stored in the keychain (value not shown)") for k in result["secrets"]]
        )
        width = max(len(k) for _, k, _ in rows) if rows else 0
        result["diff"] = dict(prepared="".join("%s %s  %s\n" % (mark, k.ljust(width), what) for mark, k, what in rows))
    result["msg"] = "changed: %d added, %d changed, %d removed, %d secrets" % (
        len(result["added"]), len(result["changed_keys"]), len(result["removed"]), len(result["secrets"])
    ) if result["changed"] else "no changes"
    module.exit_json(**result)


if __name__ == "__main__":
    main()
