// A CLI start loads the command it runs and nothing else: no command for --help, the LSP server
// (vscode-languageserver, half of what every start used to import) only once `serve` starts it.
// Checked on the CommonJS modules a real process has loaded, not on time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

/** The npm packages a fresh process holds after importing the CLI and, if named, one command's module. */
function packagesLoaded(command?: string): string[] {
  const script = `
    const { createRequire } = await import('node:module');
    const { commands } = await import('./dist/cli/commands/index.js');
    await import('./dist/cli/main.js');
    ${command ? `await commands.find((c) => c.name === ${JSON.stringify(command)}).load();` : ''}
    const names = Object.keys(createRequire(import.meta.url).cache)
      .map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(p)?.[1])
      .filter(Boolean);
    console.log(JSON.stringify([...new Set(names)].sort()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

it('--help and the command list load no model runtime and no LSP server', () => {
  const loaded = packagesLoaded();
  assert.ok(!loaded.includes('onnxruntime-node'), loaded.join(', '));
  assert.ok(!loaded.includes('vscode-languageserver'), loaded.join(', '));
});

it('complete loads the engine but not the LSP server; serve loads the LSP server only when it starts', () => {
  const complete = packagesLoaded('complete');
  assert.ok(complete.includes('onnxruntime-node'), 'the check sees a package a command does load');
  assert.ok(!complete.includes('vscode-languageserver'), complete.join(', '));
  assert.ok(!packagesLoaded('serve').includes('vscode-languageserver'));
});
