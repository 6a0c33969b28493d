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
  if (p[i] === '!' || p[i] === '^') {
    negate = true;
    i++;
  }
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
      if (cls !== undefined) {
        body += cls;
        i = close + 2;
        continue;
      }
    }
    if (c === '\\' && i + 1 < p.length) {
      body += escapeRe(p[i + 1]);
      i += 2;
      continue;
    }
    if (c === '-') {
      body += '-';
      i++;
      continue;
    }
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
      if (b) {
        out += b.re;
        i = b.end - 1;
      } else out += '\\[';
    } else if (c === '\\' && i + 1 < p.length) {
      out += escapeRe(p[++i]);
    } else if (c === '{' && braces) {
      const close = p.indexOf('}', i);
      if (close < 0) {
        out += '\\{';
        continue;
      }
      const alts = p
        .slice(i + 1, close)
        .split(',')
        .map((a) => segment(a, false));
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
    if (c === '/' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const matchers = new Map<string, PathMatcher>();

/** A matcher for `pattern` (the same pattern compiles once: .gitattributes files repeat across revisions). */
export function compileGlob(pattern: string, opts: GlobOptions = {}): PathMatcher {
  const key = `${opts.braces ? 1 : 0}${opts.matchContents ? 1 : 0}${pattern}`;
  let m = matchers.get(key);
  if (!m) {
    if (matchers.size >= 10_000) matchers.clear();
    matchers.set(key, (m = compile(pattern, opts)));
  }
  return m;
}

function compile(pattern: string, opts: GlobOptions): PathMatcher {
  const braces = opts.braces ?? false;
  let p = pattern;
  const dirOnly = p.endsWith('/') && !p.endsWith('\\/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  if (dirOnly && !opts.matchContents) return () => false;
  if (p === '') return () => false;
  const anchored = p.slice(0, -1).includes('/') || p.startsWith('/');
  p = p.replace(/^\/+/, '');
  // Patterns come from committed .gitattributes files, i.e. from strangers: a backtracking regex
  // would take exponential time on `*a*a*a*a*b`, so they run on an automaton (linear in the path).
  // Brace alternatives exist only in the user's own --include/--exclude globs.
  if (!braces || !/[{}]/.test(p)) {
    const body = compileTokens(p);
    const tokens: Tok[] = [...(anchored ? [] : [{ kind: DIRS }]), ...body];
    if (dirOnly) tokens.push(literal('/'), { kind: ANY });
    else if (opts.matchContents) tokens.push({ kind: CONTENTS });
    return (path) => runAutomaton(tokens, path);
  }
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

/**
 * One step of a glob: a character (LIT: code, ONE: any but '/', CLASS: a bracket test); STAR (any
 * run without '/'); ANY (any run at all); DIRS (nothing, or any run ending in '/': a `**\/` or an
 * unanchored pattern's directories); CONTENTS (nothing, or '/' and anything after it).
 */
const LIT = 0,
  ONE = 1,
  CLASS = 2,
  STAR = 3,
  ANY = 4,
  DIRS = 5,
  CONTENTS = 6;
type Tok = { kind: number; code?: number; test?: (c: string) => boolean };
const SLASH = 47;

const compiled = new Map<string, Tok[]>();

function compileTokens(p: string): Tok[] {
  const hit = compiled.get(p);
  if (hit) return hit;
  const out: Tok[] = [];
  const segs = splitSegments(p, false);
  segs.forEach((s, i) => {
    const last = i === segs.length - 1;
    if (s === '**') {
      out.push({ kind: last ? ANY : DIRS });
      return;
    }
    for (let j = 0; j < s.length; j++) {
      const c = s[j];
      if (c === '*') {
        while (s[j + 1] === '*') j++;
        out.push({ kind: STAR });
      } else if (c === '?') out.push({ kind: ONE });
      else if (c === '[') {
        const b = bracket(s, j);
        if (b) {
          const re = new RegExp(`^${b.re}$`, 's');
          out.push({ kind: CLASS, test: (x) => re.test(x) });
          j = b.end - 1;
        } else out.push(literal('['));
      } else if (c === '\\' && j + 1 < s.length) out.push(literal(s[++j]));
      else out.push(literal(c));
    }
    if (!last) out.push(literal('/'));
  });
  if (compiled.size > 10_000) compiled.clear();
  compiled.set(p, out);
  return out;
}

function literal(c: string): Tok {
  return { kind: LIT, code: c.charCodeAt(0) };
}

/**
 * Simulates the pattern's automaton over the path: the set of live positions in the token list
 * advances one character at a time, so the cost is (path length x tokens) whatever the pattern.
 */
function runAutomaton(tokens: readonly Tok[], path: string): boolean {
  if (tokens.length <= 30) return runBits(tokens, path);
  const n = tokens.length;
  const kinds = tokens.map((t) => t.kind);
  // Two reused pairs of state sets: live (about to match token i) and inside (within a run of i).
  let live = new Uint8Array(n + 1);
  let inside = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  let nextInside = new Uint8Array(n + 1);
  const close = (set: Uint8Array) => {
    // Tokens that may match nothing let their successor start at the same place.
    for (let i = 0; i < n; i++) if (set[i] && kinds[i] >= STAR) set[i + 1] = 1;
  };
  live[0] = 1;
  close(live);
  for (let at = 0; at < path.length; at++) {
    const code = path.charCodeAt(at);
    const slash = code === SLASH;
    next.fill(0);
    nextInside.fill(0);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!live[i] && !inside[i]) continue;
      switch (kinds[i]) {
        case LIT:
          if (live[i] && tokens[i].code === code) {
            next[i + 1] = 1;
            any = true;
          }
          break;
        case ONE:
          if (live[i] && !slash) {
            next[i + 1] = 1;
            any = true;
          }
          break;
        case CLASS:
          if (live[i] && tokens[i].test!(path[at])) {
            next[i + 1] = 1;
            any = true;
          }
          break;
        case STAR:
          if (!slash) {
            next[i] = 1;
            any = true;
          }
          break;
        case ANY:
          next[i] = 1;
          any = true;
          break;
        case DIRS:
          // Inside the run: '/' may end it (the next token starts after it) or continue it.
          nextInside[i] = 1;
          any = true;
          if (slash) next[i + 1] = 1;
          break;
        case CONTENTS:
          if (inside[i] || (live[i] && slash)) {
            nextInside[i] = 1;
            any = true;
          }
          break;
      }
    }
    if (!any) return false;
    close(next);
    [live, next] = [next, live];
    [inside, nextInside] = [nextInside, inside];
  }
  // A CONTENTS run (always the last token) accepts whatever it has consumed.
  return live[n] === 1 || (n > 0 && inside[n - 1] === 1 && kinds[n - 1] === CONTENTS);
}

/** Bit i of a mask: token i. */
function maskOf(tokens: readonly Tok[], kinds: number[]): number {
  let m = 0;
  tokens.forEach((t, i) => {
    if (kinds.includes(t.kind)) m |= 1 << i;
  });
  return m;
}

/** {@link runAutomaton} for patterns of up to 30 tokens, the state sets as the bits of two integers. */
interface BitProgram {
  n: number;
  eps: number;
  star: number;
  anyRun: number;
  dirs: number;
  contents: number;
  one: number;
  classes: ReadonlyArray<readonly [number, (c: string) => boolean]>;
  lits: Map<number, number>;
  /** `lits` for ASCII, by code. */
  ascii: Int32Array;
}

const programs = new WeakMap<readonly Tok[], BitProgram>();

function bitProgram(tokens: readonly Tok[]): BitProgram {
  let p = programs.get(tokens);
  if (p) return p;
  const lits = new Map<number, number>();
  tokens.forEach((t, i) => {
    if (t.kind === LIT) lits.set(t.code!, (lits.get(t.code!) ?? 0) | (1 << i));
  });
  p = {
    n: tokens.length,
    eps: maskOf(tokens, [STAR, ANY, DIRS, CONTENTS]),
    star: maskOf(tokens, [STAR]),
    anyRun: maskOf(tokens, [ANY]),
    dirs: maskOf(tokens, [DIRS]),
    contents: maskOf(tokens, [CONTENTS]),
    one: maskOf(tokens, [ONE]),
    classes: tokens.flatMap((t, i) => (t.kind === CLASS ? [[i, t.test!] as const] : [])),
    lits,
    ascii: Int32Array.from({ length: 128 }, (_, c) => lits.get(c) ?? 0),
  };
  programs.set(tokens, p);
  return p;
}

function runBits(tokens: readonly Tok[], path: string): boolean {
  const { n, eps, star, anyRun, dirs, contents, one, classes, lits, ascii } = bitProgram(tokens);
  const done = 1 << n;
  const close = (set: number) => {
    for (let prev = -1; prev !== set;) {
      prev = set;
      set |= (set & eps) << 1;
    }
    return set;
  };
  if (n === 0) return path.length === 0;
  let live = close(1);
  let inside = 0;
  for (let at = 0; at < path.length; at++) {
    const code = path.charCodeAt(at);
    const slash = code === SLASH;
    let accept = (code < 128 ? ascii[code] : (lits.get(code) ?? 0)) | (slash ? 0 : one);
    for (let k = 0; k < classes.length; k++) if (classes[k][1](path[at])) accept |= 1 << classes[k][0];
    let next = ((live & accept) << 1) | (live & anyRun) | (slash ? 0 : live & star);
    const inDirs = (live | inside) & dirs;
    let nextInside = inDirs | (inside & contents) | (slash ? live & contents : 0);
    if (slash) next |= inDirs << 1;
    next = close(next);
    if (!next && !nextInside) return false;
    live = next;
    inside = nextInside;
  }
  return (live & done) !== 0 || (inside & contents & (1 << (n - 1))) !== 0;
}

/** True when any of the globs matches. */
export function anyGlob(globs: readonly string[], opts: GlobOptions = {}): PathMatcher {
  const ms = globs.map((g) => compileGlob(g, opts));
  return (path) => ms.some((m) => m(path));
}
