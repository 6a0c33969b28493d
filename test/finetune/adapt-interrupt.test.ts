// Stopping and resuming `adapt`: a real child process gets SIGINT mid-run, keeps a checkpoint,
// refuses a second run meanwhile, and the same command run again resumes and finishes; in
// process, a resumed run reproduces the uninterrupted run's loss curve exactly.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UserError } from '../../common/index.js';
import { adapt, CHECKPOINT_DIR, defaultAdapterDir, LOCK_FILE, type AdaptEvent } from '../../finetune/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';
import { BIN, FAST, FAST_FLAGS, patternFile, patternRepo, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';

const { root, env } = testRoot('cf-adapt-int-');
const model = tinyModel(join(root, 'model'));
const repo = patternRepo(24);
after(() => {
  repo.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

async function until(what: string, test: () => boolean, seconds = 60): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('adapt interrupted and resumed', () => {
  // A checkpoint every STEPS / 10 steps: the first comes at step 6, and SIGINT follows it within a few steps.
  const STEPS = 60;
  it('stops on SIGINT with a checkpoint, refuses a second run meanwhile, and resumes when run again', async () => {
    const out = defaultAdapterDir(repo.dir);
    const ckpt = join(out, CHECKPOINT_DIR, 'checkpoint.json');
    const args = [BIN, 'adapt', repo.dir, '--model', model, ...FAST_FLAGS, '--steps', String(STEPS)];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until('the first checkpoint', () => fs.existsSync(ckpt) || child.exitCode !== null);

    await assert.rejects(
      adapt({ repo: repo.dir, model, ...FAST }),
      (e: Error) => e instanceof UserError && e.message.includes(`another codefudge adapt (pid ${child.pid}`),
    );
    child.kill('SIGINT');
    assert.equal(await exit, 130, stderr);
    const stopped = new RegExp(`stopped at step (\\d+) of ${STEPS}, checkpoint saved`).exec(stderr);
    assert.ok(stopped, stderr);
    const step = Number(stopped[1]);
    assert.ok(step > 0 && step < STEPS);
    const saved = readJson(ckpt);
    assert.equal(saved.step, step);
    assert.ok(!fs.existsSync(join(out, LOCK_FILE)), 'the lock is released');
    assert.ok(!fs.existsSync(join(out, 'adapter_config.json')), 'no adapter yet');

    const rerun = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.match(rerun.stderr, new RegExp(`resuming at step ${step} of ${STEPS}`));
    assert.match(rerun.stdout, /\(trained, resumed\)/);
    const log = readJson(join(out, 'training-log.json'));
    assert.equal(log.loss_curve.length, STEPS);
    assert.deepEqual(
      log.loss_curve.slice(0, step).map((p: { loss: number }) => p.loss),
      saved.losses,
    );
    assert.ok(!fs.existsSync(join(out, CHECKPOINT_DIR)), 'the checkpoint is removed once the adapter is written');
  });

  it("a resumed run trains only the steps left and ends with the uninterrupted run's losses and adapter", async () => {
    const straightOut = join(root, 'straight');
    const straight = await adapt({ repo: repo.dir, model, ...FAST, steps: 20, out: straightOut });

    const out = join(root, 'resumed');
    const controller = new AbortController();
    const onEvent = (e: AdaptEvent) => {
      if (e.kind === 'train' && e.progress.step === 7) controller.abort();
    };
    const stopped = await adapt({ repo: repo.dir, model, ...FAST, steps: 20, out, signal: controller.signal, onEvent });
    assert.deepEqual([stopped.status, stopped.step], ['stopped', 7]);

    await assert.rejects(
      adapt({ repo: repo.dir, model, ...FAST, steps: 20, out, lr: 5e-3 }),
      (e: Error) => e instanceof UserError && /used other settings: --lr 0.005 \(was 0.01\)/.test(e.message),
    );
    let steps = 0;
    const resumed = await adapt({
      repo: repo.dir,
      model,
      ...FAST,
      steps: 20,
      out,
      onEvent: (e) => {
        if (e.kind === 'train') steps++;
      },
    });
    assert.equal(resumed.status, 'trained');
    assert.ok(resumed.resumed);
    assert.equal(steps, 13);
    assert.deepEqual(readJson(join(out, 'training-log.json')).loss_curve, readJson(join(straightOut, 'training-log.json')).loss_curve);
    assert.deepEqual(resumed.after, straight.after);
    assert.deepEqual(
      fs.readFileSync(join(out, 'adapter_model.safetensors')),
      fs.readFileSync(join(straightOut, 'adapter_model.safetensors')),
    );
  });
});

describe('adapt stopped by SIGTERM while it reads and tokenizes a 900 KB one-line file', () => {
  // Each commit rewrites data.py, one 900 KB line (a generated table), beside a small code file.
  const long = new ScriptedRepo('cf-adapt-long-');
  for (let k = 1; k <= 12; k++) {
    long.write('data.py', `TABLE = [${Array.from({ length: 450_000 }, (_, i) => (i * k) % 10).join(',')}]\n`);
    long.write(`pkg/thing${k}.py`, patternFile(k)).commit(`table ${k}`);
  }
  after(() => long.cleanup());

  for (const stage of ['reading the history', 'tokenizing']) {
    it(`stops within seconds when the signal comes at "${stage}", with nothing written`, async () => {
      const out = join(root, `sigterm-${stage.replace(/\W/g, '-')}`);
      const args = [BIN, 'adapt', long.dir, '--model', model, ...FAST_FLAGS, '--steps', '2', '--out', out];
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let signalled = 0;
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (!signalled && stderr.includes(stage)) {
          signalled = performance.now();
          child.kill('SIGTERM');
        }
      });
      // A hang guard, not a speed test: the pre-issue-13 code spent minutes encoding the line whole.
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('close', (c, s) => resolve([c, s])),
      );
      clearTimeout(guard);
      const seconds = (performance.now() - signalled) / 1000;
      assert.ok(signalled, `never reached "${stage}":\n${stderr}`);
      assert.deepEqual([code, signal], [130, null], stderr);
      assert.ok(seconds < 10, `exited ${seconds.toFixed(1)} s after SIGTERM`);
      assert.match(stderr, /stopping after this step/);
      assert.match(stderr, /stopped before training began; nothing saved\n$/);
      assert.doesNotMatch(stderr, /^\s+at |Error|training \d+ steps/m, 'no stack trace, and training never began');
      assert.ok(!fs.existsSync(out), 'the output folder this run made (lock included) is gone');
    });
  }
});
