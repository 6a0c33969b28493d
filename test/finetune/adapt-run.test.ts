// `adapt` end to end on a real repository with a learnable pattern and a tiny model: it lowers
// the held-out loss, writes a PEFT adapter that `complete --adapter` uses, refreshes it after new
// commits, and refuses an adapter of another base model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Completer, openModelFolder, readPeftAdapter } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { adapt, baseModelFingerprint, defaultAdapterDir, type AdaptEvent, type AdaptResult } from '../../finetune/index.js';
import type { ScriptedRepo } from '../helpers/scripted-repo.js';
import { addPatternCommits, BIN, FAST, patternRepo, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';

const { root, env } = testRoot('cf-adapt-run-');
const model = tinyModel(join(root, 'model'));
let repo: ScriptedRepo;
let out: string;
let first: AdaptResult;
before(async () => {
  repo = patternRepo(24);
  out = defaultAdapterDir(repo.dir);
  first = await adapt({ repo: repo.dir, model, ...FAST });
});
after(() => {
  repo.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

const fileBytes = (dir: string) => Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(join(dir, f))]));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('codefudge adapt', () => {
  it("lowers the held-out loss well below the base model's and below a uniform guess", () => {
    assert.equal(first.status, 'trained');
    assert.equal(first.mode, 'full');
    const { before: b, after: a } = first;
    assert.ok(a!.heldout! < b!.heldout! - 3, `held-out ${b!.heldout} -> ${a!.heldout}`);
    assert.ok(a!.heldout! < Math.log(320), `held-out ${a!.heldout} is not better than uniform over the vocabulary`);
    assert.ok(a!.train! < b!.train!, `train ${b!.train} -> ${a!.train}`);
    assert.ok(first.sequences.heldout > 0 && first.examples.fim > 0 && first.examples.commitDiff > 0);
  });

  it('writes a PEFT adapter with one A [r, in] and B [out, r] per layer and projection', () => {
    const adapter = readPeftAdapter(out);
    const config = readJson(join(out, 'adapter_config.json'));
    assert.equal(config.peft_type, 'LORA');
    assert.equal(config.r, 8);
    assert.equal(config.lora_alpha, 16);
    assert.equal(config.base_model_name_or_path, model);
    const dims: Record<string, [number, number]> = {
      'self_attn.q_proj': [32, 32],
      'self_attn.k_proj': [32, 16],
      'self_attn.v_proj': [32, 16],
      'self_attn.o_proj': [32, 32],
      'mlp.gate_proj': [32, 48],
      'mlp.up_proj': [32, 48],
      'mlp.down_proj': [48, 32],
    };
    const expected = new Map<string, number[]>();
    for (const layer of [0, 1]) {
      for (const [module, [inF, outF]] of Object.entries(dims)) {
        const key = `base_model.model.model.layers.${layer}.${module}`;
        expected.set(`${key}.lora_A.weight`, [8, inF]);
        expected.set(`${key}.lora_B.weight`, [outF, 8]);
      }
    }
    assert.deepEqual(new Map([...adapter.tensors].map(([k, t]) => [k, t.shape])), expected);
    const b = adapter.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')!.data;
    assert.ok(
      b.some((v) => v !== 0),
      'B was trained (it starts at zero)',
    );
  });

  it('records the base model, the commit trained through and the loss curve; leaves no checkpoint, lock or git noise', () => {
    const meta = readJson(join(out, 'codefudge.json'));
    const folder = openModelFolder(model);
    assert.equal(meta.base_model.fingerprint, baseModelFingerprint(folder));
    folder.weights.close();
    // 24 commits, the newest 20 percent (5) held out.
    assert.equal(meta.trained_through, repo.git('rev-parse', 'HEAD~5').trim());
    assert.equal(first.trainedThrough, meta.trained_through);
    assert.deepEqual(
      meta.runs.map((r: { kind: string }) => r.kind),
      ['full'],
    );
    const log = readJson(join(out, 'training-log.json'));
    assert.equal(log.loss_curve.length, 40);
    assert.deepEqual(log.loss_curve[39].step, 40);
    assert.deepEqual([log.before, log.after], [first.before, first.after]);
    assert.deepEqual(fs.readdirSync(out).sort(), [
      'adapter_config.json',
      'adapter_model.safetensors',
      'codefudge.json',
      'training-log.json',
    ]);
    assert.equal(repo.git('status', '--porcelain'), '');
  });

  it('gives an adapter that `codefudge complete --adapter` uses', async () => {
    const file = join(repo.dir, 'pkg', 'thing3.py');
    const complete = (...extra: string[]) => {
      const r = spawnSync(
        process.execPath,
        [BIN, 'complete', '--model', model, '--threads', '1', '--max-tokens', '12', '--stop', 'none', ...extra, `${file}:3:16`],
        { encoding: 'utf8', env },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const adapted = complete('--adapter', out);
    assert.notEqual(adapted, complete(), 'the adapter changes the completion');
    const completer = await Completer.load(model, { adapter: out, threads: 1 });
    const text = fs.readFileSync(file, 'utf8');
    const at = text.split('\n').slice(0, 2).join('\n').length + 1 + 15;
    const own = await completer.complete({ prefix: text.slice(0, at), suffix: text.slice(at), maxNewTokens: 12 });
    await completer.release();
    assert.equal(adapted, own.text + (own.text.endsWith('\n') ? '' : '\n'));
  });

  it('refuses an adapter of another base model and leaves it as it was; a copy of the same model is the same base', async () => {
    const other = tinyModel(join(root, 'other'), 4);
    const was = fileBytes(out);
    await assert.rejects(
      adapt({ repo: repo.dir, model: other, ...FAST }),
      (e: Error) => e instanceof UserError && /belongs to base model .* pass --from-scratch/.test(e.message),
    );
    assert.deepEqual(fileBytes(out), was);
    fs.cpSync(model, join(root, 'copy'), { recursive: true });
    const [a, b] = [openModelFolder(model), openModelFolder(join(root, 'copy'))];
    assert.equal(baseModelFingerprint(a), baseModelFingerprint(b));
    a.weights.close();
    b.weights.close();
  });

  it('after new commits, refreshes from the existing adapter with the new examples and a replay of the old, and says so', async () => {
    const through = first.trainedThrough!;
    addPatternCommits(repo, 24, 6);
    const said: string[] = [];
    const onEvent = (e: AdaptEvent) => {
      if (e.kind === 'info') said.push(e.message);
    };
    const r = await adapt({ repo: repo.dir, model, ...FAST, steps: 10, onEvent });
    assert.equal(r.mode, 'refresh');
    assert.ok(
      said.some((m) => m.includes(`refreshing the adapter trained through ${through.slice(0, 7)}`)),
      said.join('\n'),
    );
    assert.ok(r.examples.replay > 0 && r.examples.fim + r.examples.commitDiff > 0);
    // It starts from the trained adapter, not from the base model.
    assert.ok(r.before!.heldout! < first.before!.heldout! - 3, `${r.before!.heldout} vs base ${first.before!.heldout}`);
    const meta = readJson(join(out, 'codefudge.json'));
    assert.equal(meta.trained_through, repo.git('rev-parse', 'HEAD~6').trim());
    assert.deepEqual(
      meta.runs.map((x: { kind: string; since: string | null }) => [x.kind, x.since]),
      [
        ['full', null],
        ['refresh', through],
      ],
    );

    const was = fileBytes(out);
    const again = await adapt({ repo: repo.dir, model, ...FAST, steps: 10 });
    assert.equal(again.status, 'up-to-date');
    assert.deepEqual(fileBytes(out), was);

    const scratch = await adapt({ repo: repo.dir, model, ...FAST, steps: 10, fromScratch: true });
    assert.equal(scratch.mode, 'full');
    assert.deepEqual(
      readJson(join(out, 'codefudge.json')).runs.map((x: { kind: string }) => x.kind),
      ['full'],
    );
  });

  it('with a time budget, times a few steps and trains as many as fit', async () => {
    const said: string[] = [];
    const budget = 2;
    const r = await adapt({
      repo: repo.dir,
      model,
      ...FAST,
      steps: undefined,
      timeSeconds: budget,
      maxEpochs: 1000,
      out: join(root, 'timed'),
      onEvent: (e) => {
        if (e.kind === 'info') said.push(e.message);
      },
    });
    const line = said.find((m) => m.includes('per step:'));
    const m = /^(\d+(?:\.\d+)?)(ms|s) per step: (\d+) steps fit in 2\.0s$/.exec(line ?? '');
    assert.ok(m, said.join('\n'));
    const perStep = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
    assert.equal(r.steps, Number(m[3]));
    assert.ok(r.steps * perStep <= budget, `${r.steps} steps of ${perStep}s`);
    assert.equal(readJson(join(root, 'timed', 'training-log.json')).loss_curve.length, r.steps);
  });
});
