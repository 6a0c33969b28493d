// Each command's usage documents exactly the options its table declares: a flag added without a
// usage line, or a usage line left behind by a removed flag, fails here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commands } from '../../cli/commands/index.js';

/** Flags of other programs, or other commands, that a usage text mentions. */
const FOREIGN: Record<string, string[]> = {
  adapt: ['enable-lora'], // vLLM's
  bench: ['first-parent', 'numstat', 'http'], // git log's; `codefudge serve --http`
  export: ['lora'], // llama-server's
  // --backend's help names `codefudge serve --http`
  complete: ['http'],
  'fim-eval': ['http'],
  'suggest-diff': ['http'],
};
const flagsIn = (usage: string) => new Set([...usage.matchAll(/(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)/g)].map((m) => m[1]));

describe('usage texts', () => {
  for (const entry of commands) {
    it(`${entry.name}: the usage names every option in the table, and only those`, async () => {
      const command = await entry.load();
      const inUsage = flagsIn(command.usage);
      const declared = Object.keys(command.options).sort();
      assert.deepEqual(
        declared.filter((n) => !inUsage.has(n)),
        [],
        `options of ${command.name} missing from its usage`,
      );
      assert.deepEqual(
        [...inUsage].filter((n) => !FOREIGN[command.name]?.includes(n) && !declared.includes(n)).sort(),
        [],
        `usage of ${command.name} names options it does not take`,
      );
    });
  }

  it('reads the flags a usage names, values and --name=VALUE forms included', () => {
    assert.deepEqual([...flagsIn('usage: x --alpha A [--beta-two] --json=FILE, not-a--flag, ---three')].sort(), [
      'alpha',
      'beta-two',
      'json',
    ]);
  });
});
