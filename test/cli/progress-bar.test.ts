// The shared progress bar: fields such as loss and tokens/s, a resumed start, and plain lines
// now and then when the stream is not a terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, ProgressBar } from '../../cli/progress-bar.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    writes,
    s: {
      isTTY,
      columns: 120,
      write: (t: string) => {
        writes.push(t);
        return true;
      },
    },
  };
}

describe('ProgressBar', () => {
  it('shows extra fields after the count, and the rate and time left of what this run did', () => {
    let now = 0;
    const { writes, s } = stream(true);
    const bar = new ProgressBar({ stream: s, unit: 'steps', now: () => now });
    bar.start('training', 100, 40);
    now = 10_000;
    bar.update(60, { loss: '2.310', 'tok/s': '850' });
    assert.equal(bar.line(120).replace(/\[[#-]+\]/, '[]'), 'training [] 60/100 loss 2.310 tok/s 850 2.00 steps/s ETA 0:20');
    assert.ok(writes.at(-1)!.startsWith('\rtraining ['));
    bar.finish();
    assert.equal(writes.at(-1), '\n');
  });

  it('off a terminal, is silent unless asked for a line every so often', () => {
    let now = 0;
    const quiet = stream(false);
    const bar = new ProgressBar({ stream: quiet.s, now: () => now });
    bar.start('x', 10);
    bar.update(5);
    assert.deepEqual(quiet.writes, []);

    const logged = stream(false);
    const every = new ProgressBar({ stream: logged.s, unit: 'steps', logEveryMs: 1000, now: () => now });
    every.start('training', 10);
    for (let step = 1; step <= 10; step++) {
      now += 300;
      every.update(step, { loss: `${step}` });
    }
    assert.equal(logged.writes.length, 2, logged.writes.join(''));
    assert.ok(
      logged.writes.every((w) => /^training \[[#-]+\] \d+\/10 loss \d+ .* steps\/s ETA .*\n$/.test(w)),
      logged.writes.join(''),
    );
  });

  it('formats durations', () => {
    assert.deepEqual(
      [formatDuration(5), formatDuration(125), formatDuration(3725), formatDuration(Infinity)],
      ['0:05', '2:05', '1:02:05', '--:--'],
    );
  });
});
