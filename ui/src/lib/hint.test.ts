import { describe, expect, it } from 'vitest';
import { hintParts } from './hint';

describe('hintParts', () => {
  it('marks the commands and keys between backticks as code', () => {
    expect(hintParts('set `proxy.username` and run `postdesk secret set proxy.password`.')).toEqual([
      { text: 'set ', code: false },
      { text: 'proxy.username', code: true },
      { text: ' and run ', code: false },
      { text: 'postdesk secret set proxy.password', code: true },
      { text: '.', code: false },
    ]);
  });
  it('keeps a hint without backticks, or with an unpaired one, as plain text', () => {
    expect(hintParts('Check the host name.')).toEqual([{ text: 'Check the host name.', code: false }]);
    expect(hintParts('a ` b')).toEqual([{ text: 'a ` b', code: false }]);
  });
});
