/** How a file's bytes were turned into text: valid UTF-8 as is, anything else as Windows-1252 (a latin1 superset). */
export type TextEncodingName = 'utf-8' | 'latin1';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// WHATWG's "latin1" label is Windows-1252: every byte maps to a character, so it never throws.
const latin1 = new TextDecoder('windows-1252');

/** git's own test for binary content: a NUL byte in the first 8000 bytes. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8000);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

export function decodeAs(bytes: Uint8Array, encoding: TextEncodingName): string {
  if (encoding === 'utf-8') {
    try {
      return utf8.decode(bytes);
    } catch {
      return latin1.decode(bytes);
    }
  }
  return latin1.decode(bytes);
}

/** Decodes bytes of unknown encoding; never throws. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncodingName } {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: latin1.decode(bytes), encoding: 'latin1' };
  }
}
