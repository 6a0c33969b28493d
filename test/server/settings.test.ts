import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, mergeSettings } from '../../server/settings.js';

describe('settings', () => {
  it('takes valid values, bare or under "codefudge", and says what changed', () => {
    const bare = mergeSettings(DEFAULT_SETTINGS, { maxTokens: 12, mode: 'single-line' });
    assert.deepEqual(bare.problems, []);
    assert.equal(bare.settings.maxTokens, 12);
    assert.equal(bare.settings.mode, 'single-line');
    assert.deepEqual(bare.changed.sort(), ['maxTokens', 'mode']);
    const nested = mergeSettings(DEFAULT_SETTINGS, { codefudge: { debounceMs: 0, model: '/models/x', adapter: false } });
    assert.equal(nested.settings.debounceMs, 0);
    assert.equal(nested.settings.model, '/models/x');
    assert.equal(nested.settings.adapter, false);
  });

  it('reports and ignores unknown names and bad values, keeping the previous value', () => {
    const r = mergeSettings(DEFAULT_SETTINGS, { maxTokens: -3, mode: 'paragraph', temprature: 1, temperature: 'hot' });
    assert.deepEqual(r.settings, DEFAULT_SETTINGS);
    assert.equal(r.problems.length, 4);
    assert.match(r.problems.join('\n'), /"maxTokens" must be an integer in 1\.\.1024, got -3/);
    assert.match(r.problems.join('\n'), /unknown setting "temprature"/);
    assert.deepEqual(r.changed, []);
  });

  it('treats null and "" as "use the default" for model and adapter', () => {
    const set = mergeSettings(DEFAULT_SETTINGS, { model: '/m', adapter: '/a' }).settings;
    const cleared = mergeSettings(set, { model: null, adapter: '' });
    assert.equal(cleared.settings.model, undefined);
    assert.equal(cleared.settings.adapter, undefined);
    assert.deepEqual(cleared.changed.sort(), ['adapter', 'model']);
  });

  it('rejects settings that are not an object', () => {
    assert.deepEqual(mergeSettings(DEFAULT_SETTINGS, 'fast').problems, ['settings must be an object']);
    assert.deepEqual(mergeSettings(DEFAULT_SETTINGS, null).problems, []);
  });
});
