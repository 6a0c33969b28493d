// Runs every compiled test file with node's own test runner.
// Node 20's --test does not expand globs, so the file list is gathered here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// The slowest files (wall seconds on the 2-core CI VM) start first: with two at a time, a long file
// started last would leave one core idle at the end. Order only; every file runs either way.
const SLOWEST_FIRST = [
  'finetune/adapt-interrupt', // 19 s
  'cli/backend-flags', // 17
  'history/hostile-repos', // 16
  'eval/fim-eval-cli', // 15
  'suggest/suggest-pipeline', // 13
  'finetune/adapt-run', // 11
  'eval/suggest-eval', // 8
  'history/export', // 8
  'finetune/adapt-errors', // 8
];
const rank = (f) => {
  const i = SLOWEST_FIRST.findIndex((s) => f.includes(`/${s}.test.js`));
  return i < 0 ? SLOWEST_FIRST.length : i;
};

const filter = process.argv.slice(2);
let files = collect('dist/test')
  .sort()
  .sort((a, b) => rank(a) - rank(b));
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
