import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandAdaptRunner, parseProgressLine, type AdaptProgress } from '../../server/adapt-runner.js';
import { adapterStamp, watchAdapter, workspaceAdapterDir } from '../../server/adapter-watch.js';

const root = mkdtempSync(join(tmpdir(), 'cf-adapt-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('adapt progress', () => {
  it('reads percentages and step counts from progress lines', () => {
    assert.deepEqual(parseProgressLine('  training 42.5% done '), { message: 'training 42.5% done', percentage: 42.5 });
    assert.deepEqual(parseProgressLine('step 30/120 loss 1.23'), { message: 'step 30/120 loss 1.23', percentage: 25 });
    assert.deepEqual(parseProgressLine('\u001b[32mreading history\u001b[0m'), { message: 'reading history' });
    // codefudge adapt's two bars are two phases of one rising percentage.
    assert.equal(parseProgressLine('history [####------] 60/120 40.0 commits/s ETA 0:01')?.percentage, 5);
    assert.equal(parseProgressLine('training [#---------] 0/300 loss 2.1 0.50 steps/s ETA 10:00')?.percentage, 10);
    assert.equal(parseProgressLine('training [##########] 300/300 loss 1.2 0.50 steps/s ETA 0:00')?.percentage, 100);
    assert.equal(parseProgressLine('   '), undefined);
  });

  it("relays a real child process's progress lines and its exit status", async () => {
    const script = join(root, 'fake-adapt.mjs');
    writeFileSync(
      script,
      [
        'const root = process.argv[2];',
        'if (process.argv[3] !== "--model" || process.argv[4] !== "/models/base") process.exit(3);',
        'process.stdout.write(`reading ${root}\\n`);',
        'process.stderr.write("step 1/4\\rstep 2/4\\r");',
        'process.stdout.write("50%\\n");',
        'if (root.endsWith("bad")) { process.stderr.write("codefudge: no git repository at " + root + "\\n"); process.exit(1); }',
      ].join('\n'),
    );
    const runner = commandAdaptRunner([script]);
    const seen: AdaptProgress[] = [];
    await runner({ root, model: '/models/base' }, (p) => seen.push(p), new AbortController().signal);
    assert.ok(seen.some((p) => p.message === `reading ${root}`));
    assert.ok(seen.some((p) => p.percentage === 50));
    assert.ok(seen.some((p) => p.message === 'step 2/4'));
    const bad = join(root, 'bad');
    mkdirSync(bad);
    await assert.rejects(
      runner({ root: bad, model: '/models/base' }, () => undefined, new AbortController().signal),
      /codefudge adapt failed \(exit 1\): codefudge: no git repository/,
    );
  });

  it('kills the child when cancelled', async () => {
    const script = join(root, 'slow-adapt.mjs');
    writeFileSync(script, 'console.log("started"); setTimeout(() => {}, 60000);');
    const c = new AbortController();
    const t0 = performance.now();
    const run = commandAdaptRunner([script])({ root }, () => c.abort(), c.signal);
    await assert.rejects(run, /cancelled/);
    assert.ok(performance.now() - t0 < 10_000);
  });
});

describe('workspace adapter folder', () => {
  it('is present only with both adapter files, and its stamp changes when they do', async () => {
    const ws = join(root, 'ws');
    const dir = workspaceAdapterDir(ws);
    assert.equal(dir, join(ws, '.codefudge', 'adapter'));
    const stamps: (string | undefined)[] = [];
    const watch = watchAdapter(dir, (s) => stamps.push(s), 60_000);
    assert.deepEqual(stamps, [undefined]);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'adapter_config.json'), '{}');
    watch.check();
    assert.equal(stamps.length, 1, 'one file is not an adapter');
    writeFileSync(join(dir, 'adapter_model.safetensors'), 'x');
    watch.check();
    assert.equal(stamps.length, 2);
    assert.equal(stamps[1], adapterStamp(dir));
    writeFileSync(join(dir, 'adapter_model.safetensors'), 'xy');
    watch.check();
    assert.equal(stamps.length, 3);
    assert.notEqual(stamps[2], stamps[1]);
    rmSync(dir, { recursive: true });
    watch.check();
    assert.equal(stamps[3], undefined);
    watch.stop();
  });
});
