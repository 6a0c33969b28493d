// Links tsc's output for the CLI (dist/cli/main.js and every module it reaches) into a few files
// under dist/bundle/, which bin/codefudge.js runs. Node 20 loads ES modules one file at a time
// (resolve, read, link), about 1 ms each: `codefudge adapt` reached 176 files and spent ~0.17 s of
// its 0.45 s start there; bundled, it starts in ~0.28 s. Each command stays its own chunk, loaded when
// run. tsc stays the compiler and type checker; esbuild only links, leaving packages in node_modules.
// Written under a temporary name and renamed into place, so a failed build leaves the last bundle.
import { build } from 'esbuild';
import { existsSync, renameSync, rmSync } from 'node:fs';

const out = 'dist/bundle';
const tmp = `${out}.tmp-${process.pid}`;
try {
  await build({
    entryPoints: ['dist/cli/main.js'],
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  if (existsSync(out)) rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`bundle-cli: ${e instanceof Error ? e.message.split('\n')[0] : e}\n`);
  process.exit(1);
}
