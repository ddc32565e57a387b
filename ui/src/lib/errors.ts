// The one error helper: whatever a failed call rejected with, as the views show it.

import type { CommandError } from './bindings/CommandError';
import type { ErrorCode } from './bindings/ErrorCode';
import type { Problem } from './bindings/Problem';

/** A failure as the views show it: a command's `CommandError`, or anything else thrown, shaped alike. */
export type Failure = CommandError;

/** `{ code, message, problems }` of a rejection: a command's error as it came, anything else as `other`. */
export function toFailure(error: unknown): Failure {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown; problems?: unknown };
    const code = typeof e.code === 'string' ? (e.code as ErrorCode) : 'other';
    const problems = Array.isArray(e.problems) ? (e.problems as Problem[]) : [];
    const message = typeof e.message === 'string' ? e.message : String(error);
    return { code, message, problems };
  }
  return { code: 'other', message: typeof error === 'string' ? error : String(error), problems: [] };
}
