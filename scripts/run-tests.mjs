// Runs every compiled test file with node's own test runner.
// Node 20's --test does not expand globs, so the file list is gathered here. It also gives each file a
// process of its own, and a process costs ~0.35 s of CPU before a test runs (node, onnxruntime, the
// modules): over 120 files, a fifth of the suite. So files run GROUP_SIZE to a process, each group
// an entry module importing them (node:test runs their tests one after another); the slowest files,
// which mostly wait on the processes they spawn, keep a process each so they overlap.
// With file names as arguments, only the files whose path contains one of them run, each alone.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
// started last would leave one core idle at the end. node --test runs its files in the order of their
// paths, whatever order they are given in, so every run is an entry module named for its place.
const SLOWEST_FIRST = [
  'finetune/adapt-interrupt', // 16 s
  'suggest/suggest-pipeline', // 17
  'cli/backend-flags', // 17
  'history/hostile-repos', // 16
  'finetune/adapt-run', // 12
  'eval/fim-eval-cli', // 10
  'eval/suggest-eval', // 8
  'history/export', // 8
  'finetune/adapt-errors', // 6
];
const GROUP_SIZE = 8;
const rank = (f) => {
  const i = SLOWEST_FIRST.findIndex((s) => f.includes(`/${s}.test.js`));
  return i < 0 ? SLOWEST_FIRST.length : i;
};

const filter = process.argv.slice(2);
const files = collect('dist/test').sort();
let runs;
let groupDir;
if (filter.length) {
  runs = files.filter((f) => filter.some((s) => f.includes(s)));
} else {
  const alone = files.filter((f) => rank(f) < SLOWEST_FIRST.length).sort((a, b) => rank(a) - rank(b));
  const rest = files.filter((f) => !alone.includes(f));
  const batches = alone.map((f) => [f]);
  for (let i = 0; i < rest.length; i += GROUP_SIZE) batches.push(rest.slice(i, i + GROUP_SIZE));
  groupDir = mkdtempSync(join(tmpdir(), 'cf-test-groups-'));
  runs = batches.map((members, i) => {
    const entry = join(groupDir, `run-${String(i).padStart(3, '0')}.test.mjs`);
    writeFileSync(entry, members.map((f) => `import ${JSON.stringify(resolve(f))};\n`).join(''));
    return entry;
  });
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...runs], { stdio: 'inherit' });
if (groupDir) rmSync(groupDir, { recursive: true, force: true });
process.exit(r.status ?? 1);
