import { describe, expect, it } from 'vitest';
import type { Problem } from './bindings/Problem';
import { toFailure } from './errors';

describe('toFailure', () => {
  // Moved from form.test.ts (the helper moved here); the code is new.
  it('reads the backend’s {message, problems} and anything else thrown', () => {
    const problems: Problem[] = [{ key: 'global.port', severity: 'error', message: 'bad' }];
    expect(toFailure({ message: 'global.port: bad', problems })).toEqual({ code: 'other', message: 'global.port: bad', problems });
    expect(toFailure('keychain locked')).toEqual({ code: 'other', message: 'keychain locked', problems: [] });
    expect(toFailure(new Error('boom')).message).toBe('boom');
  });

  it('keeps the stable code of a command’s error', () => {
    const problems: Problem[] = [{ key: 'global.port', severity: 'error', message: 'bad' }];
    expect(toFailure({ code: 'invalid', message: 'global.port: bad', problems })).toEqual({ code: 'invalid', message: 'global.port: bad', problems });
    expect(toFailure({ code: 'keychain_unavailable', message: 'the OS keychain is not available' }).code).toBe('keychain_unavailable');
    expect(toFailure(null)).toEqual({ code: 'other', message: 'null', problems: [] });
  });
});
