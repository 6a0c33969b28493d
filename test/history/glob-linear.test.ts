// Issue 13 item 4: .gitattributes patterns come from strangers, so matching must be linear in the
// path; and the automaton must agree with the backtracking meaning of the same pattern.
import assert from 'node:assert/strict';
import test from 'node:test';
import { compileGlob } from '../../history/index.js';

test('10,000 adversarial pattern/name pairs match in under a second in all', () => {
  const patterns = [
    '*a*a*a*a*a*a*a*a*b',
    '**/*a*a*a*a*a*a*a*a*a*a*a*b',
    'a*a*a*a*a*a*a*a*a*a*a*a*a*c',
    '*?*?*?*?*?*?*?*?*?*x',
    '[a]*[a]*[a]*[a]*[a]*[a]*[a]*b',
  ];
  const started = performance.now();
  let matched = 0;
  for (let i = 0; i < 10_000; i++) {
    const name = 'a'.repeat(40 + (i % 80)) + (i % 7 === 0 ? '/' + 'a'.repeat(30) : '');
    if (compileGlob(patterns[i % patterns.length])(name)) matched++;
  }
  const seconds = (performance.now() - started) / 1000;
  assert.equal(matched, 0);
  assert.ok(seconds < 1, `took ${seconds.toFixed(2)} s`);
});

/** The pattern's meaning by plain recursion (exponential, fine on short strings). */
function reference(pattern: string, path: string, matchContents: boolean): boolean {
  let p = pattern;
  const anchored = p.slice(0, -1).includes('/') || p.startsWith('/');
  p = p.replace(/^\/+/, '');
  const segs = p.split('/');
  const seg = (s: string, t: string): boolean => {
    if (s === '') return t === '';
    if (s[0] === '*') return seg(s.slice(1), t) || (t !== '' && seg(s, t.slice(1)));
    if (t === '') return false;
    if (s[0] === '?' || s[0] === t[0]) return seg(s.slice(1), t.slice(1));
    return false;
  };
  const parts = (ps: string[], ts: string[]): boolean => {
    if (!ps.length) return ts.length === 0 || (matchContents && ts.length > 0);
    if (ps[0] === '**') {
      if (ps.length === 1) return ts.length >= 1;
      for (let k = 0; k <= ts.length; k++) if (parts(ps.slice(1), ts.slice(k))) return true;
      return false;
    }
    return ts.length > 0 && seg(ps[0], ts[0]) && parts(ps.slice(1), ts.slice(1));
  };
  const ts = path.split('/');
  if (anchored) return parts(segs, ts);
  for (let k = 0; k < ts.length; k++) if (parts(segs, ts.slice(k))) return true;
  return false;
}

test('the automaton agrees with the recursive meaning on random patterns and paths', () => {
  let s = 7;
  const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  for (let i = 0; i < 3000; i++) {
    const segs = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
      rand() < 0.15 ? '**' : Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(['a', 'b', '*', '?', 'a'])).join(''),
    );
    const pattern = (rand() < 0.2 ? '/' : '') + segs.join('/');
    const path = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
      Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(['a', 'b'])).join(''),
    ).join('/');
    for (const matchContents of [false, true]) {
      assert.equal(
        compileGlob(pattern, { matchContents })(path),
        reference(pattern, path, matchContents),
        `${pattern} ~ ${path} (contents ${matchContents})`,
      );
    }
  }
});
