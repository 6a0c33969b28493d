// :CodefudgeAdapt showed "codefudge adapt failed (exit 1): Node.js v20.20.2", the last line of a
// stack trace: the one-line reason is relayed instead (issue 17).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandAdaptRunner, failureLine, type AdaptProgress } from '../../server/adapt-runner.js';

const root = mkdtempSync(join(tmpdir(), 'cf-adapt-fail-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function failure(source: string): Promise<{ message: string; progress: AdaptProgress[] }> {
  const script = join(root, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, source);
  const progress: AdaptProgress[] = [];
  try {
    await commandAdaptRunner([script])({ root }, (p) => progress.push(p), new AbortController().signal);
  } catch (e) {
    return { message: (e as Error).message, progress };
  }
  throw new Error('the runner did not fail');
}

describe('codefudge adapt failures', () => {
  it('relays the Error line of an uncaught exception, not "Node.js v20"', async () => {
    const { message, progress } = await failure(
      'process.stdout.write("history [##--] 1/4\\n");\nthrow new Error("no commits after the cutoff in /repo");\n',
    );
    assert.equal(message, 'codefudge adapt failed (exit 1): Error: no commits after the cutoff in /repo');
    assert.ok(!progress.some((p) => /^at |Node\.js v/.test(p.message)), JSON.stringify(progress));
  });

  it("relays the command's own one-line message", async () => {
    const { message } = await failure(
      'process.stderr.write("step 1/3\\ncodefudge: /repo is not a git repository\\n");\nprocess.exit(1);\n',
    );
    assert.equal(message, 'codefudge adapt failed (exit 1): codefudge: /repo is not a git repository');
  });

  it('picks the line from a captured stack trace', () => {
    const stderr = [
      'file:///app/dist/finetune/adapt.js:42',
      '    throw new TypeError("x is undefined");',
      '    ^',
      '',
      'TypeError: x is undefined',
      '    at adapt (file:///app/dist/finetune/adapt.js:42:11)',
      '',
      'Node.js v20.20.2',
    ];
    assert.equal(failureLine(stderr), 'TypeError: x is undefined');
    assert.equal(failureLine(['something odd', 'Node.js v20.20.2']), 'something odd');
  });
});
