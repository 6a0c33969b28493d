// The PEFT recipe (finetune/recipes/): its settings are `codefudge adapt`'s, the adapter config it
// makes is one codefudge reads back as the same LoRA, and --dry-run (standard library only) reads
// a real `history export` and renders the same FIM and commit->diff prompts as codefudge.
// The real training run needs torch, transformers, peft and a GPU; it is not run here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  defaultLoraSpec,
  detectFimTemplate,
  embeddedModelDir,
  loadTokenizer,
  specFromPeftConfig,
  type FimMode,
} from '../../engine/index.js';
import { ADAPT_DEFAULTS } from '../../finetune/index.js';
import { commitDiffHeader } from '../../suggest/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';

const RECIPE = resolve('finetune/recipes/train_lora.py');
const CONFIG = resolve('finetune/recipes/codefudge-lora.json');
const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;
const root = mkdtempSync(join(tmpdir(), 'cf-recipe-'));
const data = join(root, 'data.jsonl');
let repo: ScriptedRepo;

before(() => {
  repo = new ScriptedRepo('cf-recipe-repo-');
  repo.write(
    'src/shapes.py',
    'class Square:\n    def __init__(self, side):\n        self.side = side\n\n    def area(self):\n        return self.side * self.side\n',
  );
  repo.commit('Add Square');
  repo.write(
    'src/shapes.py',
    'class Square:\n    def __init__(self, side):\n        self.side = side\n\n    def area(self):\n        return self.side ** 2\n\n    def perimeter(self):\n        return 4 * self.side\n',
  );
  repo.commit('Square: perimeter');
  repo.write('src/circle.py', 'import math\n\n\ndef area(r):\n    return math.pi * r * r\n');
  repo.commit('Add circle');
  const r = spawnSync(process.execPath, ['bin/codefudge.js', 'history', 'export', repo.dir, '--out', data, '--holdout', '34%', '--quiet'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});
after(() => {
  repo?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('finetune/recipes (PEFT + transformers/accelerate)', () => {
  const cfg = JSON.parse(readFileSync(CONFIG, 'utf8'));

  it("trains with codefudge adapt's settings", () => {
    assert.equal(cfg.r, ADAPT_DEFAULTS.rank);
    assert.equal(cfg.lora_alpha, ADAPT_DEFAULTS.alpha);
    assert.equal(cfg.lora_dropout, ADAPT_DEFAULTS.dropout);
    assert.deepEqual(cfg.target_modules, ADAPT_DEFAULTS.targets);
    assert.equal(cfg.learning_rate, ADAPT_DEFAULTS.lr);
    assert.equal(cfg.max_seq_len, ADAPT_DEFAULTS.seq);
    assert.equal(cfg.commit_diff_share, ADAPT_DEFAULTS.commitDiffShare);
    assert.equal(cfg.fim_loss, ADAPT_DEFAULTS.fimLoss);
    assert.equal(cfg.max_examples, ADAPT_DEFAULTS.maxExamples);
    assert.equal(cfg.num_train_epochs, ADAPT_DEFAULTS.maxEpochs);
    assert.equal(cfg.seed, ADAPT_DEFAULTS.seed);
    // adapt: 8 sequences per optimizer step, warm-up over 5% of the steps, cosine decay, no weight decay.
    assert.equal(cfg.sequences_per_step, 8);
    assert.equal(cfg.warmup_ratio, 0.05);
    assert.equal(cfg.lr_scheduler_type, 'cosine');
    assert.equal(cfg.weight_decay, 0);
  });

  it(
    "--dry-run reads the export and renders codefudge's own FIM and commit->diff prompts",
    { skip: !python && 'python3 is not installed' },
    async () => {
      const r = spawnSync(python!, [RECIPE, '--dry-run', '--model', embeddedModelDir(), '--data', data, '--out', join(root, 'adapter')], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const plan = JSON.parse(r.stdout);
      const tok = await loadTokenizer(embeddedModelDir());
      const template = detectFimTemplate(tok)!;
      assert.equal(plan.family, template.family);
      assert.equal(plan.add_bos, template.addBos);
      const rows = readFileSync(data, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(plan.examples.read, rows.length);
      assert.ok(plan.examples.fim > 0 && plan.examples['commit-diff'] > 0, JSON.stringify(plan.examples));
      const fim = rows.find((x) => x.kind === 'fim');
      assert.deepEqual(plan.first.fim, { prompt: template.render(fim.prefix, fim.suffix, fim.mode as FimMode), target: fim.middle });
      const diff = rows.find((x) => x.kind === 'commit-diff');
      const before = diff.before === '' || diff.before.endsWith('\n') ? diff.before : `${diff.before}\n`;
      assert.deepEqual(plan.first['commit-diff'], { prompt: commitDiffHeader(tok, diff.message, diff.path) + before, target: diff.diff });
      // The LoraConfig it builds, saved by PEFT as adapter_config.json, reads back as codefudge's default LoRA.
      const spec = specFromPeftConfig({ peft_type: 'LORA', ...plan.lora_config }, 'adapter_config.json');
      const pick = (x: typeof spec) => ({
        r: x.r,
        alpha: x.alpha,
        dropout: x.dropout,
        useRslora: x.useRslora,
        targets: [...x.targets].sort(),
      });
      assert.deepEqual(pick(spec), pick(defaultLoraSpec()));
      assert.deepEqual(plan.training.max_seq_len, ADAPT_DEFAULTS.seq);
    },
  );

  it('refuses the held-out file and a tokenizer without FIM tokens, in one line', { skip: !python && 'python3 is not installed' }, () => {
    const held = spawnSync(
      python!,
      [RECIPE, '--dry-run', '--model', embeddedModelDir(), '--data', data.replace('.jsonl', '.heldout.jsonl'), '--out', root],
      { encoding: 'utf8' },
    );
    assert.equal(held.status, 1);
    assert.match(held.stderr.trim(), /^train_lora\.py: .*kind must be fim or commit-diff/);
    const noFim = spawnSync(python!, [RECIPE, '--dry-run', '--model', root, '--data', data, '--out', root], { encoding: 'utf8' });
    assert.equal(noFim.status, 1);
    assert.match(noFim.stderr.trim(), /^train_lora\.py: no tokenizer\.json in /);
  });
});
