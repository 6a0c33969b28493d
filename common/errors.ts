/**
 * An error caused by what the user gave us (a path, a flag, a file's content).
 * The CLI prints its message as one line and exits 1; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Narrow an unknown thrown value to its message, for wrapping lower-level errors in a UserError. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
