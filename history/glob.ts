/**
 * gitignore-style path patterns, used for the user's --include/--exclude globs and for
 * `.gitattributes` lines: a pattern without a slash matches a name at any depth, one with a
 * slash is anchored; `*` and `?` stay inside one path segment, `**` as a whole segment spans
 * segments.
 */
export interface GlobOptions {
  /** `{a,b}` alternatives (user globs; not part of gitattributes syntax). */
  braces?: boolean;
  /**
   * A pattern naming a directory also matches everything inside it, as in .gitignore
   * (user globs). In .gitattributes a directory pattern matches nothing below it.
   */
  matchContents?: boolean;
}

export type PathMatcher = (path: string) => boolean;

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  xdigit: '0-9a-fA-F',
};

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A bracket expression starting at `start` (the `[`); returns its regex and the index after `]`, or null if unclosed. */
function bracket(p: string, start: number): { re: string; end: number } | null {
  let i = start + 1;
  let negate = false;
  if (p[i] === '!' || p[i] === '^') { negate = true; i++; }
  let body = '';
  let first = true;
  while (i < p.length) {
    const c = p[i];
    if (c === ']' && !first) {
      return { re: `[${negate ? '^' : ''}${body}${negate ? '/' : ''}]`, end: i + 1 };
    }
    first = false;
    if (c === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      const cls = close > 0 ? POSIX_CLASSES[p.slice(i + 2, close)] : undefined;
      if (cls !== undefined) { body += cls; i = close + 2; continue; }
    }
    if (c === '\\' && i + 1 < p.length) { body += escapeRe(p[i + 1]); i += 2; continue; }
    if (c === '-' ) { body += '-'; i++; continue; }
    body += escapeRe(c);
    i++;
  }
  return null;
}

/** Regex source for one path segment (no slashes inside). */
function segment(p: string, braces: boolean): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') {
      while (p[i + 1] === '*') i++;
      out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const b = bracket(p, i);
      if (b) { out += b.re; i = b.end - 1; } else out += '\\[';
    } else if (c === '\\' && i + 1 < p.length) {
      out += escapeRe(p[++i]);
    } else if (c === '{' && braces) {
      const close = p.indexOf('}', i);
      if (close < 0) { out += '\\{'; continue; }
      const alts = p.slice(i + 1, close).split(',').map((a) => segment(a, false));
      out += `(?:${alts.join('|')})`;
      i = close;
    } else out += escapeRe(c);
  }
  return out;
}

/** Splits on `/` outside brace groups, so `{a/b,c}` survives as one piece when braces are on. */
function splitSegments(p: string, braces: boolean): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of p) {
    if (braces && c === '{') depth++;
    if (braces && c === '}' && depth > 0) depth--;
    if (c === '/' && depth === 0) { parts.push(cur); cur = ''; } else cur += c;
  }
  parts.push(cur);
  return parts;
}

export function compileGlob(pattern: string, opts: GlobOptions = {}): PathMatcher {
  const braces = opts.braces ?? false;
  let p = pattern;
  const dirOnly = p.endsWith('/') && !p.endsWith('\\/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  if (dirOnly && !opts.matchContents) return () => false;
  if (p === '') return () => false;
  const anchored = p.slice(0, -1).includes('/') || p.startsWith('/');
  p = p.replace(/^\/+/, '');
  const segs = splitSegments(p, braces);
  let body = '';
  segs.forEach((s, i) => {
    const last = i === segs.length - 1;
    if (s === '**') body += last ? '.*' : '(?:[^/]+/)*';
    else body += segment(s, braces) + (last ? '' : '/');
  });
  const head = anchored ? '^' : '^(?:.*/)?';
  const tail = opts.matchContents ? '(?:/.*)?$' : '$';
  // A directory-only pattern must match a directory, so something has to follow it.
  const re = new RegExp(head + body + (dirOnly ? '/.*$' : tail), 's');
  return (path) => re.test(path);
}

/** True when any of the globs matches. */
export function anyGlob(globs: readonly string[], opts: GlobOptions = {}): PathMatcher {
  const ms = globs.map((g) => compileGlob(g, opts));
  return (path) => ms.some((m) => m(path));
}
