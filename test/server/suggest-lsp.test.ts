// codefudge.suggestDiff through the built server over stdio, driven by a real JSON-RPC client.
// The workspace adapter is a LoRA that memorised one commit->diff example (the training format),
// so the suggestion for that message and file is known; the WorkspaceEdit must turn the file
// into exactly what the suggested diff makes of it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { defaultLoraSpec, detectFimTemplate, loadTokenizer, openModelFolder, writePeftAdapter } from '../../engine/index.js';
import { commitDiffSequence, loraTarget, TrainLoop } from '../../finetune/index.js';
import { sequenceFormat } from '../../suggest/index.js';
import { testRoot, tinyModel } from '../helpers/adapt-fixtures.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';
import { ServerProcess } from '../helpers/lsp-client.js';

const BEFORE = 'from app import reg\n\n\ndef setup():\n    pass\n';
const MESSAGE = 'register blue';
const PATH = 'plugins/blue.py';
// Made for an older version of the file (line numbers off by two): applying finds it two lines down.
const DIFF = `--- a/${PATH}\n+++ b/${PATH}\n@@ -1,3 +1,4 @@\n \n def setup():\n     pass\n+reg("blue")\n`;
const AFTER = `${BEFORE}reg("blue")\n`;

const { root, env } = testRoot('cf-suggest-lsp-');
const model = tinyModel(join(root, 'model'));
let repo: ScriptedRepo;
let server: ServerProcess;
let uri: string;

/** A LoRA adapter that has learned the one example by heart. */
async function memorisingAdapter(dir: string): Promise<void> {
  const tok = await loadTokenizer(model);
  const folder = openModelFolder(model);
  const fmt = sequenceFormat(tok, detectFimTemplate(tok)!, folder.config, 512);
  const seq = commitDiffSequence(fmt, { message: MESSAGE, path: PATH, before: BEFORE, diff: DIFF })!;
  const target = loraTarget(folder, defaultLoraSpec({ r: 8, alpha: 16 }));
  const loop = await TrainLoop.create({
    target,
    train: [seq],
    steps: 80,
    batchSize: 1,
    lr: 2e-2,
    warmupSteps: 5,
    weightDecay: 0,
    seed: 1,
    session: { threads: 1 },
  });
  const { losses } = await loop.run();
  await loop.close();
  assert.ok(losses[losses.length - 1] < 0.05, `memorised: final loss ${losses[losses.length - 1]}`);
  writePeftAdapter(dir, target.toAdapter(loop.values, model));
  folder.weights.close();
}

/** What a client does with the edit: apply its text edits, last first. */
function applyEdits(
  text: string,
  edits: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[],
): string {
  const lines = text.split(/(?<=\n)/);
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).join('').length + p.character;
  let out = text;
  for (const e of [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))) {
    out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  }
  return out;
}

before(async () => {
  repo = new ScriptedRepo('cf-suggest-lsp-ws-');
  repo
    .write(PATH, BEFORE)
    .write('logo.png', Buffer.from([0x89, 0x50, 0, 1]))
    .commit('plugin skeleton');
  await memorisingAdapter(join(repo.dir, '.codefudge', 'adapter'));
  uri = pathToFileURL(join(repo.dir, PATH)).href;
  server = new ServerProcess(['--model', model, '--threads', '1'], env as Record<string, string>);
  const init = await server.initialize({ debounceMs: 0 }, pathToFileURL(repo.dir).href);
  assert.ok(init.capabilities.executeCommandProvider.commands.includes('codefudge.suggestDiff'));
  const t0 = Date.now();
  while ((await server.command('codefudge.status')).model.adapterState !== 'active') {
    if (Date.now() - t0 > 20_000) throw new Error('the workspace adapter did not load');
    await new Promise((r) => setTimeout(r, 50));
  }
});
after(() => {
  server?.kill();
  repo?.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('codefudge.suggestDiff over LSP', () => {
  it('returns a WorkspaceEdit that makes the file what the suggested diff makes of it', async () => {
    const edit = await server.command('codefudge.suggestDiff', [uri, MESSAGE, { maxTokens: 64 }]);
    assert.deepEqual(Object.keys(edit.changes), [uri]);
    const edits = edit.changes[uri];
    assert.deepEqual(edits, [{ range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, newText: 'reg("blue")\n' }]);
    assert.equal(applyEdits(BEFORE, edits), AFTER);
    assert.equal(fs.readFileSync(join(repo.dir, PATH), 'utf8'), BEFORE, 'the server writes nothing itself');
  });

  it("works on the open document's text, unsaved changes included", async () => {
    // On disk the file is something else; the editor holds the memorised text, unsaved.
    const file = join(repo.dir, PATH);
    fs.writeFileSync(file, 'x = 1\n');
    try {
      server.open(uri, BEFORE);
      const edit = await server.command('codefudge.suggestDiff', [uri, MESSAGE, { maxTokens: 64 }]);
      assert.equal(applyEdits(BEFORE, edit.changes[uri]), AFTER);
    } finally {
      fs.writeFileSync(file, BEFORE);
    }
  });

  it('refuses bad arguments and unreadable files with one clear line', async () => {
    const refusal = async (args: unknown[]) => {
      try {
        await server.command('codefudge.suggestDiff', args);
      } catch (e) {
        const err = e as { code: number; message: string };
        assert.ok(!err.message.includes('\n'), err.message);
        return err;
      }
      assert.fail(`no error for ${JSON.stringify(args)}`);
    };
    assert.match((await refusal([])).message, /first argument must be the file's URI/);
    assert.match((await refusal([uri])).message, /second argument must be the commit message/);
    const empty = await refusal([uri, '  ']);
    assert.equal(empty.code, -32602);
    assert.match(empty.message, /the commit message is empty/);
    assert.match((await refusal([pathToFileURL(join(repo.dir, 'logo.png')).href, 'x'])).message, /logo\.png is a binary file/);
    assert.match((await refusal([pathToFileURL(join(repo.dir, 'gone.py')).href, 'x'])).message, /no such file: .*gone\.py/);
    // The server is still answering.
    assert.equal((await server.command('codefudge.status')).model.state, 'ready');
  });
});
