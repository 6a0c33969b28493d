// What the server asks of the engine's Completer: a stop predicate (end of line/block), turning the
// prompt-cache reuse off (the benchmark's baseline), and the spm prompt order.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Completer } from '../../engine/index.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-hooks-'));
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

const prefix = 'def double(x):\n    y = x * 2\n    ';
const suffix = '\n\nprint(double(2))\n';

describe('Completer hooks used by the server', () => {
  it('stops where stopAt says and cuts the text there', async () => {
    const r = await completer.complete({ prefix, suffix, maxNewTokens: 8, stopAt: (t) => (t.includes(' ') ? t.indexOf(' ') : undefined) });
    assert.equal(r.text, 'return');
    assert.equal(r.reason, 'stop-string');
    const whole = await completer.complete({ prefix, suffix, maxNewTokens: 8 });
    assert.equal(whole.text, 'return x');
  });

  it('reuses the cached prompt unless reuseCache is false', async () => {
    await completer.complete({ prefix, suffix, maxNewTokens: 2 });
    const again = await completer.complete({ prefix: prefix + 'r', suffix, maxNewTokens: 2 });
    assert.ok(again.reusedTokens > 10, `reused ${again.reusedTokens}`);
    const fresh = await completer.complete({ prefix: prefix + 're', suffix, maxNewTokens: 2, reuseCache: false });
    assert.equal(fresh.reusedTokens, 0);
    assert.equal(fresh.text, again.text);
  });

  it('puts the suffix first with fimMode spm, so typing forward reuses all but the newest tokens', async () => {
    const ids = completer.promptIds(prefix, suffix, 1000, 1000, 'spm');
    const tok = completer.tokenizer;
    assert.deepEqual(ids.slice(0, 2), [tok.tokenToId('<fim_prefix>'), tok.tokenToId('<fim_suffix>')]);
    await completer.complete({ prefix, suffix, maxNewTokens: 2, fimMode: 'spm' });
    const next = await completer.complete({ prefix: prefix + 'z', suffix, maxNewTokens: 2, fimMode: 'spm' });
    // The last few tokens re-run: the typed character re-tokenizes the whitespace before it.
    assert.ok(next.reusedTokens >= next.promptTokens - 3, `reused ${next.reusedTokens} of ${next.promptTokens}`);
    await completer.complete({ prefix: prefix + 'zz', suffix, maxNewTokens: 2 });
    const psm = await completer.complete({ prefix: prefix + 'zzz', suffix, maxNewTokens: 2 });
    assert.ok(
      psm.reusedTokens > 10 && psm.reusedTokens <= psm.promptTokens - tok.encode(suffix).length,
      'psm re-runs the suffix after the cursor',
    );
  });
});
