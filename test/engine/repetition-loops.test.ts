import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endsInCycle, loopShare, trailingCyclePeriod } from '../../engine/index.js';

describe('repetition loops', () => {
  it('finds a generation that ends repeating an n-gram', () => {
    assert.equal(endsInCycle([5, 6, 7, 1, 2, 1, 2, 1, 2]), true);
    assert.equal(endsInCycle([9, 9, 9]), true);
    assert.equal(endsInCycle([1, 2, 3, 1, 2, 3, 1, 2, 4]), false);
    assert.equal(endsInCycle([1, 2, 1, 2]), false, 'two repeats are not a loop');
    assert.equal(endsInCycle([3, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4], 4), true);
    assert.equal(endsInCycle([3, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4], 3), false, 'period above maxPeriod');
  });

  it('gives the shortest period of the cycle', () => {
    assert.equal(trailingCyclePeriod([5, 1, 2, 1, 2, 1, 2]), 2);
    assert.equal(trailingCyclePeriod([7, 7, 7, 7, 7, 7]), 1, 'period 1 before 2 or 3');
    assert.equal(trailingCyclePeriod([1, 2, 3, 1, 2, 3, 1, 2, 3]), 3);
    assert.equal(trailingCyclePeriod([1, 2, 3]), 0);
    assert.equal(trailingCyclePeriod([1, 2, 1, 2, 1, 2], 16, 4), 0, 'three repeats when four are asked');
  });

  it('reports the share of looping generations', () => {
    assert.equal(loopShare([[1, 1, 1], [1, 2, 3], [4, 5, 4, 5, 4, 5], [7]]), 0.5);
    assert.equal(loopShare([]), 0);
  });
});
