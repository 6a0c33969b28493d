// The completion service on its own: one window cut (the engine does not cut it again), the
// generation seam (local engine or a remote OpenAI-compatible backend) with the same
// post-processing for both, stopping a remote stream at the end of the block, and cancellation
// checked before anything is generated.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Completer } from '../../engine/index.js';
import { CompletionService } from '../../server/completion-service.js';
import { textView } from '../../server/context-window.js';
import { localGenerator } from '../../server/generator.js';
import type { BackendRequest, CompletionBackend } from '../../server/backend/completion-backend.js';
import { RemoteCompleter } from '../../server/backend/remote-completer.js';
import { DEFAULT_SETTINGS, type Settings } from '../../server/settings.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-service-'));
process.env.CODEFUDGE_CACHE = join(root, 'cache');
let completer: Completer;
before(async () => {
  await makeScriptedModel(join(root, 'model'), 'return x');
  completer = await Completer.load(join(root, 'model'), { threads: 1 });
});
after(async () => {
  await completer.release();
  rmSync(root, { recursive: true, force: true });
});

/** The generator over a remote backend, the way the server uses one: the local tokenizer builds the prompt. */
async function viaRemote(backend: CompletionBackend) {
  return localGenerator(await RemoteCompleter.load(backend, completer.folder.dir));
}

/** An input from a document with the cursor marked by "|". */
function input(marked: string, signal?: AbortSignal) {
  const i = marked.indexOf('|');
  const text = marked.slice(0, i) + marked.slice(i + 1);
  return { view: textView(text), offset: i, line: marked.slice(0, i).split('\n').length - 1, languageId: 'python', signal };
}

/** A backend that streams `raw` in small pieces and records what it was asked. */
function fakeBackend(raw: string) {
  const calls: BackendRequest[] = [];
  let aborted = false;
  const backend: CompletionBackend = {
    async complete(req) {
      calls.push(req);
      let text = '';
      for (let i = 0; i < raw.length; i += 3) {
        if (req.signal.aborted) {
          aborted = true;
          throw Object.assign(new Error('aborted'), { name: 'AbortError' });
        }
        text += raw.slice(i, i + 3);
        req.onText?.(raw.slice(i, i + 3));
        await new Promise((r) => setImmediate(r));
      }
      return { text, finishReason: 'stop' };
    },
  };
  return { backend, calls, wasAborted: () => aborted };
}

const settings = (s: Partial<Settings> = {}): Settings => ({ ...DEFAULT_SETTINGS, ...s });
const DOC = 'import os\n\n\ndef f(x):\n    |\n\n\nprint(f(2))\n';

describe('completion service', () => {
  it('cuts the window once: the prompt that runs is exactly the window', async () => {
    const long = `${'value = compute(value)  # a line of some length\n'.repeat(200)}def f(x):\n    |\n${'print(value)\n'.repeat(200)}`;
    const service = new CompletionService({
      settings: () => settings({ maxPrefixTokens: 300, maxSuffixTokens: 60 }),
      generator: async () => localGenerator(completer),
    });
    const c = (await service.complete(input(long)))!;
    assert.equal(c.text, 'return x');
    const { prefix, suffix } = c.window;
    assert.ok(
      prefix.length < long.indexOf('|') && suffix.length < long.length - long.indexOf('|') - 1,
      'the window is a part of the document',
    );
    const expected = completer.promptIds(prefix, suffix, undefined, undefined, completer.preferredFimMode, 0, false).length;
    assert.equal(c.promptTokens, expected, 'no second cut in the engine');
  });

  it('keeps at most singleLineSuffixTokens of the suffix in single-line mode, all of maxSuffixTokens in multi-line', async () => {
    const long = `def f(x):\n    |\n${'y = f(1)\n'.repeat(200)}`;
    const windowFor = async (mode: Settings['mode']) => {
      const service = new CompletionService({
        settings: () => settings({ mode, maxSuffixTokens: 200, singleLineSuffixTokens: 40 }),
        generator: async () => localGenerator(completer),
      });
      return (await service.complete(input(long)))!.window;
    };
    const count = (text: string) => completer.tokenizer.encode(text).length;
    const single = await windowFor('single-line');
    const multi = await windowFor('multi-line');
    assert.ok(count(single.suffix) <= 40 && count(single.suffix) > 20, `single-line suffix: ${count(single.suffix)} tokens`);
    assert.ok(count(multi.suffix) > 150 && count(multi.suffix) <= 200, `multi-line suffix: ${count(multi.suffix)} tokens`);
    assert.ok(multi.suffix.startsWith(single.suffix), 'the single-line suffix is the nearest part');
    assert.equal(single.prefix, multi.prefix);
  });

  it("post-processes a remote backend's text exactly as the local engine's", async () => {
    const local = new CompletionService({ settings: () => settings(), generator: async () => localGenerator(completer) });
    const l = (await local.complete(input(DOC)))!;
    // The remote model writes the indentation again and goes on past the block: the same clean-up.
    const fake = fakeBackend(`    ${l.raw}\n\n\nprint(f(3))\n`);
    const remote = new CompletionService({
      settings: () => settings(),
      generator: async () => viaRemote(fake.backend),
    });
    const r = (await remote.complete(input(DOC)))!;
    assert.equal(r.text, l.text);
    assert.equal(r.text, 'return x');
    assert.equal(fake.calls.length, 1);
    const call = fake.calls[0];
    assert.equal(call.prompt, completer.template.render(r.window.prefix, r.window.suffix, completer.preferredFimMode));
    assert.deepEqual(call.stop, completer.template.stopTokens);
    assert.equal(call.maxTokens, DEFAULT_SETTINGS.maxTokens);
    assert.ok(fake.wasAborted(), 'the stream was stopped at the end of the block, not read to its end');
  });

  it('keeps special-token text in a document from becoming special tokens in a remote prompt', async () => {
    const fake = fakeBackend('pass');
    const service = new CompletionService({
      settings: () => settings(),
      generator: async () => await viaRemote(fake.backend),
    });
    await service.complete(input('s = "<fim_middle>"\n|\n'));
    assert.equal((fake.calls[0].prompt.match(/<fim_middle>/g) ?? []).length, 1, "only the template's own");
  });

  it('generates nothing for a request cancelled before its turn', async () => {
    const fake = fakeBackend('return x');
    const controller = new AbortController();
    controller.abort();
    for (const generator of [localGenerator(completer), await viaRemote(fake.backend)]) {
      const service = new CompletionService({ settings: () => settings(), generator: async () => generator });
      const c = (await service.complete(input(DOC, controller.signal)))!;
      assert.equal(c.reason, 'aborted');
      assert.equal(c.text, '');
    }
    assert.equal(fake.calls.length, 0);
  });

  it('answers undefined without a model', async () => {
    const service = new CompletionService({ settings: () => settings(), generator: async () => undefined });
    assert.equal(await service.complete(input(DOC)), undefined);
  });
});
