/** How a file's bytes were turned into text: valid UTF-8 as is, anything else as Windows-1252 (a latin1 superset). */
export type TextEncodingName = 'utf-8' | 'latin1';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Windows-1252's 0x80-0x9F (WHATWG's "latin1"); the five bytes it leaves undefined stay C1 controls.
// Spelled out because Node's own windows-1252 decoder differs between versions.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/** Every byte maps to a character, so this never throws. */
function decodeCp1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]);
}

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
      return decodeCp1252(bytes);
    }
  }
  return decodeCp1252(bytes);
}

/** Decodes bytes of unknown encoding; never throws. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncodingName } {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: decodeCp1252(bytes), encoding: 'latin1' };
  }
}
