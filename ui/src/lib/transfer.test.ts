import { describe, expect, it } from 'vitest';
import { importPreview } from '../test/fixtures';
import type { Change } from './bindings/Change';
import {
  changeText,
  changeView,
  checkPassphrase,
  exportDefaultPath,
  fileName,
  folderOf,
  groupChanges,
  importDefaultPath,
  importedText,
  isConfigFile,
  isPassphraseProblem,
  joinPath,
  kindLabel,
  missingSecretsText,
  passphraseErrorText,
  problemLine,
  shownValue,
  sortChanges,
} from './transfer';

describe('passphrase', () => {
  it('needs at least 8 characters, typed the same twice', () => {
    expect(checkPassphrase('correct horse', 'correct horse')).toEqual({ passphrase: null, confirm: null, ok: true });
    expect(checkPassphrase('12345678', '12345678').ok).toBe(true);

    const short = checkPassphrase('1234567', '1234567');
    expect(short.ok).toBe(false);
    expect(short.passphrase).toBe('Use at least 8 characters (7 so far).');
    expect(short.confirm).toBeNull();

    const mismatch = checkPassphrase('correct horse', 'correct hose');
    expect(mismatch.ok).toBe(false);
    expect(mismatch.passphrase).toBeNull();
    expect(mismatch.confirm).toBe('The passphrases do not match.');
  });

  it('says what is missing when nothing is typed', () => {
    const empty = checkPassphrase('', '');
    expect(empty.ok).toBe(false);
    expect(empty.passphrase).toBe('Type a passphrase.');
    expect(empty.confirm).toBe('Type the passphrase again.');
  });

  it('counts characters, not UTF-16 units', () => {
    expect(checkPassphrase('🔑🔑🔑🔑🔑🔑🔑', '🔑🔑🔑🔑🔑🔑🔑').passphrase).toBe('Use at least 8 characters (7 so far).');
    expect(checkPassphrase('🔑🔑🔑🔑🔑🔑🔑🔑', '🔑🔑🔑🔑🔑🔑🔑🔑').ok).toBe(true);
  });

  it('knows when only the passphrase of an import is wrong', () => {
    const wrong = [{ key: 'secrets.encrypted', severity: 'error' as const, message: 'wrong passphrase' }];
    const missing = [{ key: 'secrets.encrypted', severity: 'error' as const, message: 'the file carries encrypted secrets: give the passphrase' }];
    const damaged = [{ key: 'secrets.encrypted', severity: 'error' as const, message: 'the encrypted secrets are damaged or truncated (x)' }];
    const port = { key: 'global.port', severity: 'error' as const, message: 'must be a whole number from 1 to 65535' };
    expect(isPassphraseProblem(wrong)).toBe(true);
    expect(isPassphraseProblem(missing)).toBe(true);
    expect(isPassphraseProblem(damaged)).toBe(false);
    expect(isPassphraseProblem([...wrong, port])).toBe(false);
    expect(isPassphraseProblem([])).toBe(false);
    expect(passphraseErrorText({ message: 'secrets.encrypted: wrong passphrase', problems: wrong })).toBe('Wrong passphrase. Try again.');
    expect(passphraseErrorText({ message: '', problems: missing })).toBe('The file carries encrypted secrets: give the passphrase');
  });
});

describe('paths', () => {
  it('takes the file name from a path', () => {
    expect(fileName('/home/admin/exports/postdesk-config.json')).toBe('postdesk-config.json');
    expect(fileName('C:\\Users\\admin\\Desktop\\office.json')).toBe('office.json');
    expect(fileName('office.json')).toBe('office.json');
    expect(fileName('/home/admin/dir/')).toBe('dir');
  });

  it('takes the folder from a path', () => {
    expect(folderOf('/home/admin/exports/postdesk-config.json')).toBe('/home/admin/exports');
    expect(folderOf('C:\\Users\\admin\\Desktop\\office.json')).toBe('C:\\Users\\admin\\Desktop');
    expect(folderOf('/postdesk-config.json')).toBe('/');
    expect(folderOf('C:\\office.json')).toBe('C:\\');
    expect(folderOf('office.json')).toBeNull();
  });

  it('proposes the file name in the last folder', () => {
    expect(exportDefaultPath('/home/admin/exports')).toBe('/home/admin/exports/postdesk-config.json');
    expect(exportDefaultPath('/')).toBe('/postdesk-config.json');
    expect(exportDefaultPath('C:\\Users\\admin')).toBe('C:\\Users\\admin\\postdesk-config.json');
    expect(exportDefaultPath(undefined)).toBe('postdesk-config.json');
    expect(exportDefaultPath(42)).toBe('postdesk-config.json');
    expect(joinPath('C:\\', 'a.json')).toBe('C:\\a.json');
    expect(importDefaultPath('/home/admin')).toBe('/home/admin');
    expect(importDefaultPath('')).toBeUndefined();
    expect(importDefaultPath(null)).toBeUndefined();
  });

  it('accepts only .json files', () => {
    expect(isConfigFile('/tmp/postdesk-config.json')).toBe(true);
    expect(isConfigFile('C:\\x\\CONFIG.JSON')).toBe(true);
    expect(isConfigFile('/tmp/notes.txt')).toBe(false);
    expect(isConfigFile('/tmp/json')).toBe(false);
  });
});

describe('changes', () => {
  it('groups by kind (added, changed, removed, secrets), each by key', () => {
    const groups = groupChanges(importPreview.changes);
    expect(groups.map((g) => g.kind)).toEqual(['added', 'changed', 'removed', 'secret_set']);
    expect(groups.map((g) => g.heading)).toEqual([
      'New settings',
      'Changed settings',
      'Removed settings',
      'Secrets to store in the keychain',
    ]);
    expect(groups[1].changes.map((c) => c.key)).toEqual(['global.host', 'global.port']);
    expect(groupChanges([])).toEqual([]);
  });

  it('sorts global before support before clients and routes, numbers naturally', () => {
    const c = (key: string): Change => ({ key, kind: 'changed', old: 'a', new: 'b' });
    const keys = sortChanges([c('routes.b.host'), c('support.address'), c('clients.x.address'), c('global.port'), c('global.m365.tenant'), c('clients.client10.a'), c('clients.client9.a')]).map(
      (x) => x.key,
    );
    expect(keys).toEqual([
      'global.m365.tenant',
      'global.port',
      'support.address',
      'clients.client9.a',
      'clients.client10.a',
      'clients.x.address',
      'routes.b.host',
    ]);
  });

  it('labels the kinds', () => {
    expect(kindLabel('added')).toBe('Added');
    expect(kindLabel('changed')).toBe('Changed');
    expect(kindLabel('removed')).toBe('Removed');
    expect(kindLabel('secret_set')).toBe('Secret');
  });

  it('shows old → new, and never a secret', () => {
    expect(changeView({ key: 'global.port', kind: 'changed', old: '587', new: '465' })).toEqual({ old: '587', new: '465', note: null });
    expect(changeView({ key: 'support.address', kind: 'added', old: null, new: 'help@example.com' })).toEqual({
      old: null,
      new: 'help@example.com',
      note: null,
    });
    expect(changeView({ key: 'global.username', kind: 'removed', old: 'mailer', new: null })).toEqual({
      old: 'mailer',
      new: null,
      note: 'will be removed',
    });
    // Even if a value came along, it is not shown.
    const secret: Change = { key: 'global.password', kind: 'secret_set', old: 'old-pass', new: 'n3w-pass' };
    expect(changeView(secret)).toEqual({ old: null, new: null, note: 'will be set' });
    expect(changeText(secret)).toBe('global.password: will be set');
    expect(changeText({ key: 'global.port', kind: 'changed', old: '', new: '465' })).toBe('global.port: "" → 465');
    expect(shownValue(null)).toBe('(not set)');
  });

  it('words counts, missing secrets and problems', () => {
    expect(importedText(3)).toBe('Imported: 3 changes');
    expect(importedText(1)).toBe('Imported: 1 change');
    expect(missingSecretsText(['global.password'])).toBe('Set this after importing: global.password');
    expect(missingSecretsText(['global.password', 'routes.x.password'])).toBe(
      'Set these after importing: global.password, routes.x.password',
    );
    expect(problemLine({ key: 'global.port', severity: 'error', message: 'must be …' })).toBe('global.port: must be …');
  });
});
