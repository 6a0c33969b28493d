// The editor set-ups name the server's settings and commands: keep them in step with the server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../server/server.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../../server/settings.js';
import { REPO } from '../helpers/lsp-client.js';

const read = (...p: string[]) => readFileSync(join(REPO, 'clients', ...p), 'utf8');
/** Every setting a user may set (reusePrefixCache is the benchmark's switch, not a user's). */
const USER_SETTINGS = ['model', 'adapter', ...Object.keys(DEFAULT_SETTINGS).filter((k) => k !== 'reusePrefixCache')].sort();

describe('editor clients', () => {
  it("VS Code: contributes the server's commands and settings, with the server's defaults", () => {
    const pkg = JSON.parse(read('vscode', 'package.json'));
    // The server's commands the client registers by itself; suggestDiff needs arguments, so the
    // palette gets a command of the extension's own that asks for them and calls it.
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(contributed, [COMMANDS.adapt, COMMANDS.status, 'codefudge.suggestDiffForFile']);
    assert.ok(read('vscode', 'extension.js').includes(`command: '${COMMANDS.suggestDiff}'`));
    const props = pkg.contributes.configuration.properties as Record<string, { default: unknown }>;
    const serverKeys = Object.keys(props)
      .map((k) => k.replace(/^codefudge\./, ''))
      .filter((k) => k !== 'serverPath' && k !== 'languages');
    assert.deepEqual(serverKeys.sort(), USER_SETTINGS);
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      if (key in props || `codefudge.${key}` in props) assert.equal(props[`codefudge.${key}`].default, value, key);
    }
    const sent = /SERVER_SETTINGS = \[([^\]]*)\]/
      .exec(read('vscode', 'extension.js'))![1]
      .match(/'(\w+)'/g)!
      .map((s) => s.slice(1, -1));
    assert.deepEqual(sent.sort(), USER_SETTINGS);
    assert.equal(pkg.dependencies['vscode-languageclient'] !== undefined, true);
  });

  it("Helix: the language server's config holds valid settings", () => {
    const toml = read('helix', 'languages.toml');
    assert.match(toml, /\[language-server\.codefudge\]\ncommand = "codefudge"\nargs = \["serve"\]/);
    const table = /^config = \{(.*)\}$/m.exec(toml)![1];
    const settings = Object.fromEntries(
      table.split(',').map((kv) => {
        const [k, v] = kv.split('=').map((s) => s.trim());
        return [k, JSON.parse(v)];
      }),
    );
    assert.deepEqual(mergeSettings(DEFAULT_SETTINGS, settings).problems, []);
    assert.ok((toml.match(/"codefudge"\]/g) ?? []).length >= 1);
  });

  it("Neovim: offers the server's commands", () => {
    const lua = read('neovim', 'lua', 'codefudge', 'init.lua');
    for (const c of Object.values(COMMANDS)) assert.ok(lua.includes(`'${c}'`), c);
  });
});
