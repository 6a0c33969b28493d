// clients/helix/languages.toml: a language's `language-servers` replaces Helix's own list, so each
// entry must keep Helix's defaults beside codefudge, and only languages the embedded model knows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/lsp-client.js';

/** Helix 25.01's default language servers, per language, for the languages the file may enable. */
const HELIX_DEFAULTS: Record<string, string[]> = { python: ['ruff', 'jedi', 'pylsp'] };

describe('Helix languages.toml', () => {
  it("enables Python only, keeping Helix's default servers before codefudge", () => {
    const toml = readFileSync(join(REPO, 'clients', 'helix', 'languages.toml'), 'utf8');
    const entries = [...toml.matchAll(/\[\[language\]\]\nname = "([^"]+)"\nlanguage-servers = \[([^\]]*)\]/g)].map((m) => ({
      name: m[1],
      servers: m[2].split(',').map((s) => JSON.parse(s.trim())),
    }));
    assert.deepEqual(
      entries.map((e) => e.name),
      ['python'],
    );
    for (const e of entries) assert.deepEqual(e.servers, [...HELIX_DEFAULTS[e.name], 'codefudge'], e.name);
    assert.match(toml, /Helix 25\.01/);
  });
});
