// A CLI start loads the command it runs and nothing else: no command for --help, the LSP server
// (vscode-languageserver, half of what every start used to import) only once `serve` starts it.
// Checked on the CommonJS modules a real `bin/codefudge.js` process (the bundle) has loaded at exit,
// not on time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

const AT_EXIT = `
  import { createRequire } from 'node:module';
  process.on('exit', () => {
    const names = Object.keys(createRequire(process.cwd() + '/').cache)
      .map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(p)?.[1])
      .filter(Boolean);
    process.stderr.write('LOADED ' + JSON.stringify([...new Set(names)].sort()) + '\\n');
  });`;

/** The npm packages a `codefudge ARGS` process holds when it exits. */
function packagesLoaded(...args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(AT_EXIT)}`, 'bin/codefudge.js', ...args], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  assert.ok(line, r.stderr);
  return JSON.parse(line.slice('LOADED '.length));
}

it('--help and the command list load no model runtime and no LSP server', () => {
  const loaded = packagesLoaded('--help');
  assert.ok(!loaded.includes('onnxruntime-node'), loaded.join(', '));
  assert.ok(!loaded.includes('vscode-languageserver'), loaded.join(', '));
});

it('complete loads the engine but not the LSP server; serve loads the LSP server only when it starts', () => {
  const complete = packagesLoaded('complete', '--help');
  assert.ok(complete.includes('onnxruntime-node'), 'the check sees a package a command does load');
  assert.ok(!complete.includes('vscode-languageserver'), complete.join(', '));
  assert.ok(!packagesLoaded('serve', '--help').includes('vscode-languageserver'));
});
