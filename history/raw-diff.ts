/** One entry of `git diff-tree --raw -z`, with its `--numstat` counts when asked for. */
export interface RawEntry {
  srcMode: string;
  dstMode: string;
  srcOid: string;
  dstOid: string;
  /** A, M, D, R, T, C, ... */
  status: string;
  /** Rename/copy similarity in percent. */
  score: number | null;
  srcPath: string;
  dstPath: string;
  /** numstat: null for binary (`-`), undefined when numstat was not asked for. */
  added?: number | null;
  deleted?: number | null;
}

const NUMSTAT = /^(\d+|-)\t(\d+|-)\t(.*)$/s;

/**
 * Parses NUL-separated `--raw` entries, then any `--numstat` entries (git prints them in the
 * same order). Stops at an empty token (the separator git puts before `-p` output) and
 * returns where it stopped.
 */
export function parseRawZ(tokens: string[]): { entries: RawEntry[]; next: number } {
  const entries: RawEntry[] = [];
  let i = 0;
  let stat = 0;
  while (i < tokens.length && tokens[i] !== '') {
    const tok = tokens[i++];
    if (tok.startsWith(':')) {
      const [srcMode, dstMode, srcOid, dstOid, statusField] = tok.slice(1).split(' ');
      const status = statusField[0];
      const twoPaths = status === 'R' || status === 'C';
      const srcPath = tokens[i++];
      const dstPath = twoPaths ? tokens[i++] : srcPath;
      entries.push({
        srcMode,
        dstMode,
        srcOid,
        dstOid,
        status,
        score: statusField.length > 1 ? Number(statusField.slice(1)) : null,
        srcPath,
        dstPath,
      });
      continue;
    }
    const m = NUMSTAT.exec(tok);
    if (!m) throw new Error(`unexpected diff-tree output: ${JSON.stringify(tok.slice(0, 80))}`);
    if (m[3] === '') i += 2; // renames put both paths in their own tokens
    const e = entries[stat++];
    if (e) {
      e.added = m[1] === '-' ? null : Number(m[1]);
      e.deleted = m[2] === '-' ? null : Number(m[2]);
    }
  }
  return { entries, next: i };
}
