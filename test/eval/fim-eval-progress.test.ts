import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, ProgressBar } from '../../cli/progress-bar.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    writes,
    stream: {
      isTTY,
      columns: 100,
      write: (s: string) => {
        writes.push(s);
        return true;
      },
    },
  };
}

describe('progress bar', () => {
  it('redraws in place on a terminal with count, rate and time left, at most every 100 ms', () => {
    let now = 0;
    const { writes, stream } = fakeStream(true);
    const bar = new ProgressBar({ stream, unit: 'tasks', now: () => now });
    bar.start('base', 10);
    assert.equal(writes.length, 1);
    assert.match(writes[0], /^\rbase \[-+\] 0\/10 0\.00 tasks\/s ETA --:--\x1b\[K$/);
    now = 2000;
    bar.update(4);
    assert.match(writes[1], /^\rbase \[#+-+\] 4\/10 2\.00 tasks\/s ETA 0:03/);
    now = 2050;
    bar.update(5);
    assert.equal(writes.length, 2, 'throttled');
    now = 2500;
    bar.update(10);
    assert.match(writes[2], /10\/10 4\.00 tasks\/s ETA 0:00/);
    assert.ok(!writes[2].includes('-]'), 'a full bar');
    bar.start('adapter', 3);
    assert.equal(writes[3], '\n', 'the finished phase keeps its line');
    bar.finish('done');
    assert.equal(writes[writes.length - 1], '\n');
    assert.ok(!writes.includes('done\n'));
  });

  it('stays silent elsewhere and closes with a summary line', () => {
    const { writes, stream } = fakeStream(false);
    const bar = new ProgressBar({ stream });
    bar.start('base', 2);
    bar.update(1);
    bar.update(2);
    assert.deepEqual(writes, []);
    bar.finish('fim-eval: 2 tasks in 1 s');
    assert.deepEqual(writes, ['fim-eval: 2 tasks in 1 s\n']);
  });

  it('formats durations', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(59.6), '1:00');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(Infinity), '--:--');
  });
});
