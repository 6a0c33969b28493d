import type { CatFile } from './cat-file.js';
import { decodeText } from './decode.js';
import { compileGlob, type PathMatcher } from './glob.js';

/** An attribute's state for a path: set (true), unset (false), a value, or absent from the map when unspecified. */
export type AttributeValue = boolean | string;
export type Attributes = Map<string, AttributeValue>;

interface Rule {
  matches: PathMatcher;
  /** null: `!name`, back to unspecified. */
  assigns: Array<[string, AttributeValue | null]>;
}

// git's only built-in macro.
const MACROS: Record<string, Array<[string, AttributeValue]>> = {
  binary: [
    ['binary', true],
    ['diff', false],
    ['merge', false],
    ['text', false],
  ],
};

/** C-style quoted pattern as git writes it ("a b" with \t, \", \\, octal). */
function unquote(s: string): { value: string; rest: string } {
  let out = '';
  let i = 1;
  for (; i < s.length && s[i] !== '"'; i++) {
    if (s[i] !== '\\') {
      out += s[i];
      continue;
    }
    const n = s[++i];
    const esc: Record<string, string> = { t: '\t', n: '\n', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (n in esc) out += esc[n];
    else if (/[0-7]/.test(n)) {
      out += String.fromCharCode(parseInt(s.slice(i, i + 3), 8));
      i += 2;
    } else out += n;
  }
  return { value: out, rest: s.slice(i + 1) };
}

/** Parses one `.gitattributes` file; `[attr]` macro definitions and negative patterns are skipped, as git does. */
export function parseGitattributes(text: string): Array<{ pattern: string; assigns: Rule['assigns'] }> {
  const rules: Array<{ pattern: string; assigns: Rule['assigns'] }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    let pattern: string;
    let rest: string;
    if (line.startsWith('"')) ({ value: pattern, rest } = unquote(line));
    else {
      const m = /^(\S+)(.*)$/s.exec(line)!;
      pattern = m[1];
      rest = m[2];
    }
    if (pattern.startsWith('[attr]') || pattern.startsWith('!')) continue;
    const assigns: Rule['assigns'] = [];
    for (const tok of rest.trim().split(/\s+/).filter(Boolean)) {
      if (tok.startsWith('-')) assigns.push([tok.slice(1), false]);
      else if (tok.startsWith('!')) assigns.push([tok.slice(1), null]);
      else {
        const eq = tok.indexOf('=');
        if (eq < 0) {
          const macro = MACROS[tok];
          if (macro) assigns.push(...macro);
          else assigns.push([tok, true]);
        } else assigns.push([tok.slice(0, eq), tok.slice(eq + 1)]);
      }
    }
    rules.push({ pattern, assigns });
  }
  return rules;
}

/**
 * Attributes of paths at a revision, from the `.gitattributes` files of that revision's tree.
 * (`git check-attr --source` would do this, but only from git 2.40 on.)
 */
export class AttributeReader {
  private readonly files = new Map<string, Promise<Rule[]>>();
  private readonly parsed = new Map<string, Rule[]>();

  constructor(private readonly cat: CatFile) {}

  async forPath(rev: string, path: string): Promise<Attributes> {
    const attrs: Attributes = new Map();
    const parts = path.split('/');
    // Shallow files first; a deeper file, and a later line, wins.
    for (let depth = 0; depth < parts.length; depth++) {
      const dir = parts.slice(0, depth).join('/');
      const rules = await this.rulesIn(rev, dir);
      if (!rules.length) continue;
      const rel = depth === 0 ? path : path.slice(dir.length + 1);
      for (const rule of rules) {
        if (!rule.matches(rel)) continue;
        for (const [name, value] of rule.assigns) {
          if (value === null) attrs.delete(name);
          else attrs.set(name, value);
        }
      }
    }
    return attrs;
  }

  private rulesIn(rev: string, dir: string): Promise<Rule[]> {
    const key = `${rev}:${dir}`;
    let p = this.files.get(key);
    if (!p) {
      // Lookups are per commit, and a walk moves on: keep memory bounded on long histories.
      if (this.files.size >= 20_000) this.files.clear();
      p = this.load(key, dir);
      this.files.set(key, p);
    }
    return p;
  }

  private async load(key: string, dir: string): Promise<Rule[]> {
    const name = dir ? `${key}/.gitattributes` : `${key}.gitattributes`;
    const obj = await this.cat.read(name);
    if (!obj || obj.type !== 'blob') return [];
    const cached = this.parsed.get(obj.oid);
    if (cached) return cached;
    const rules = parseGitattributes(decodeText(obj.data).text).map((r) => ({
      matches: compileGlob(r.pattern),
      assigns: r.assigns,
    }));
    this.parsed.set(obj.oid, rules);
    return rules;
  }
}
