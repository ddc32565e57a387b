// The one door to the Rust side for the generated command functions (bindings/commands.ts):
// Tauri's `invoke`, with every rejection shaped as a `CommandError`. In a plain browser
// (`npm run dev` without the window) there is no Rust core, so every command is refused with
// a message that says so: the page never imitates the core (its rules live in Rust only).

import { invoke as tauriInvoke, type InvokeArgs } from '@tauri-apps/api/core';
import type { CommandError } from './bindings/CommandError';

/** Whether the page runs inside Postdesk's window (Tauri set up its IPC before the page). */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__ !== undefined;
}

/** Why nothing works in a plain browser. */
export const NOT_IN_THE_WINDOW: CommandError = {
  code: 'other',
  message:
    'This page is Postdesk’s window: it needs the app’s Rust core, which a plain browser does not have. ' +
    'Run the app (make run); for live reloading keep `npm run dev` running and start ' +
    '`cargo run -p postdesk --no-default-features`, which opens the window on this dev server.',
  problems: [],
};

/** A rejection as a `CommandError`: the commands' own errors already are; Tauri's (a refused permission, a bad argument) are text. */
function asCommandError(e: unknown): CommandError {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) return e as CommandError;
  return { code: 'other', message: e instanceof Error ? e.message : String(e), problems: [] };
}

export async function invoke<T>(command: string, args?: InvokeArgs): Promise<T> {
  if (!inTauri()) throw NOT_IN_THE_WINDOW;
  try {
    return await tauriInvoke<T>(command, args);
  } catch (e) {
    throw asCommandError(e);
  }
}
