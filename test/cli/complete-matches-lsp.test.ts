// `codefudge complete FILE:L:C` and the LSP completion at the same position give the same text:
// both go through the one completion service (window, generation, clean-up). The embedded model
// makes the text depend on the prompt, so a difference in the window or the clean-up would show.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { firstEdit, ServerProcess } from '../helpers/lsp-client.js';

const root = mkdtempSync(join(tmpdir(), 'cf-complete-lsp-'));
after(() => rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') };

const SOURCE = `import os


def read_lines(path):
    with open(path) as f:
        
    return lines


class Counter:
    def __init__(self, start=0):
        self.value = start

    def increment(self, step=1):
        self.value = 
        return self.value


def main():
    counter = Counter()
    for line in read_lines(os.environ["INPUT"]):
        counter.increment(len(line))
    print(
`;

/** 1-based line and column, as the CLI takes them; each a place a user would ask for a completion. */
const POSITIONS: [number, number][] = [
  [6, 9],
  [15, 22],
  [23, 11],
  [11, 9],
];

describe('codefudge complete and the LSP server', () => {
  it('give the same text at the same position', async () => {
    const file = join(root, 'counter.py');
    writeFileSync(file, SOURCE);
    const server = new ServerProcess(['--threads', '1'], { CODEFUDGE_CACHE: env.CODEFUDGE_CACHE });
    try {
      await server.initialize({ debounceMs: 0 }, pathToFileURL(root).href);
      const uri = pathToFileURL(file).href;
      server.open(uri, SOURCE);
      const seen: string[] = [];
      for (const [line, col] of POSITIONS) {
        const cli = runCli(['complete', '--threads', '1', `${file}:${line}:${col}`], env);
        assert.equal(cli.code, 0, cli.err);
        const lsp = firstEdit(await server.completion(uri, { line: line - 1, character: col - 1 })) ?? '';
        assert.equal(cli.out, `${lsp}\n`, `at ${line}:${col}`);
        seen.push(lsp);
      }
      assert.ok(
        seen.some((t) => t !== ''),
        `the model completed something somewhere: ${JSON.stringify(seen)}`,
      );
      assert.equal(await server.shutdown(), 0);
    } finally {
      server.kill();
    }
  });
});
