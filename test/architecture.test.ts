// DESIGN.md's import rules, checked on the source: which part may import which, and only through index.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

const ALLOWED: Record<string, string[]> = {
  common: [],
  engine: ['common'],
  history: ['common'],
  suggest: ['common', 'engine', 'history'],
  finetune: ['common', 'engine', 'history', 'suggest'],
  eval: ['common', 'engine', 'history', 'suggest'],
  server: ['common', 'engine', 'suggest'],
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const specs: string[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) specs.push(m[1]);
  return specs.map((s) => resolve(dirname(file), s));
}

const partOf = (abs: string) => relative(ROOT, abs).split(sep)[0];

test('each part imports only the parts DESIGN.md allows, each through its index.ts', () => {
  const problems: string[] = [];
  for (const [part, allowed] of Object.entries(ALLOWED)) {
    for (const file of sources(join(ROOT, part))) {
      for (const target of importsOf(file)) {
        const other = partOf(target);
        if (other === part) continue;
        const where = relative(ROOT, file);
        if (!allowed.includes(other)) problems.push(`${where} imports ${relative(ROOT, target)} (${part}/ may not import ${other}/)`);
        else if (relative(ROOT, target) !== `${other}${sep}index.js`)
          problems.push(`${where} imports ${relative(ROOT, target)}, not ${other}/index.ts`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('only cli/ draws progress bars', () => {
  const drawers = Object.keys(ALLOWED)
    .flatMap((part) => sources(join(ROOT, part)))
    .filter((f) => /\bProgressBar\b/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    drawers.map((f) => relative(ROOT, f)),
    [],
  );
});

test('test/ folders hold tests; shared test code lives in test/helpers/', () => {
  const strays = sources(join(ROOT, 'test'))
    .map((f) => relative(ROOT, f))
    .filter((f) => !f.endsWith('.test.ts') && !f.startsWith(join('test', 'helpers') + sep) && !f.includes(`${sep}fixtures${sep}`));
  assert.deepEqual(strays, []);
});
