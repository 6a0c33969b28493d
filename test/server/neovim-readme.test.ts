// The Neovim set-up exactly as clients/neovim/README.md gives it (only /path/to/codefudge replaced),
// with `codefudge` found on the PATH as `npm link` puts it there, in headless Neovim with a clean
// config. A two-line completion is inserted through the completion menu, by <C-x><C-o> (the
// plugin's omnifunc) and by vim.lsp.buf.completion(), and read back from the written file: real
// lines, no NUL characters (Neovim 0.7 used to insert the item as one line with NULs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, REPO } from '../helpers/lsp-client.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';
import { nvim, nvimArgs } from '../helpers/neovim.js';

const root = mkdtempSync(join(tmpdir(), 'cf-nvim-readme-'));
after(() => rmSync(root, { recursive: true, force: true }));

const lua = (s: string) => JSON.stringify(s);

/** The README's first Lua block, with the clone's path in place of /path/to/codefudge. */
export function readmeSnippet(): string {
  const readme = readFileSync(join(REPO, 'clients', 'neovim', 'README.md'), 'utf8');
  const block = /```lua\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README has a Lua block');
  return block[1].replaceAll('/path/to/codefudge', REPO);
}

describe('Neovim set up as its README says', { skip: nvim ? false : 'nvim is not installed (.ci/run installs it)' }, () => {
  it('inserts a two-line completion as two lines, through <C-x><C-o> and vim.lsp.buf.completion()', async () => {
    const model = join(root, 'model');
    await makeScriptedModel(model, 'y=x*2\n    return');
    // What `npm link` puts on the PATH is a link to bin/codefudge.js; this stand-in also pins the
    // test's scripted model (the README's `cmd` stays exactly as written).
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const shim = join(bin, 'codefudge');
    writeFileSync(
      shim,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@" --model ${JSON.stringify(model)} --threads 1\n`,
    );
    chmodSync(shim, 0o755);
    const snippet = join(root, 'snippet.lua');
    writeFileSync(snippet, readmeSnippet());
    const file = join(root, 'double.py');
    writeFileSync(file, 'def f(x):\n    \n\n\ndef g(x):\n    \n');
    const result = join(root, 'result.json');
    const init = join(root, 'init.lua');
    writeFileSync(
      init,
      `
dofile(${lua(snippet)})
local codefudge = require('codefudge')
local function finish(data)
  local f = io.open(${lua(result)}, 'w')
  f:write(vim.fn.json_encode(data))
  f:close()
  vim.cmd('qall!')
end
local function keys(k) vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(k, true, false, true), 'n', false) end
-- Waits (on timers, so insert mode and its completion run meanwhile) until line \`row\` reads \`want\`.
local function when_line(row, want, done)
  local tries = 0
  local function poll()
    if vim.api.nvim_buf_get_lines(0, row - 1, row, false)[1] == want then return done() end
    tries = tries + 1
    if tries > 600 then return finish({ error = 'waited for ' .. want .. ' in ' .. vim.inspect(vim.api.nvim_buf_get_lines(0, 0, -1, false)) }) end
    vim.defer_fn(poll, 50)
  end
  vim.defer_fn(poll, 50)
end
vim.api.nvim_create_autocmd('VimEnter', { nested = true, callback = function()
  vim.cmd('edit ' .. ${lua(file)})
  if not vim.wait(30000, function() return codefudge.client() ~= nil end, 50) then return finish({ error = 'not attached' }) end
  -- 1. <C-x><C-o> at the end of line 2: the menu inserts the first line; leaving it, the whole text.
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  keys('A<C-x><C-o>')
  when_line(2, '    y=x*2', function()
    keys('<Esc>')
    when_line(3, '    return', function()
      -- 2. vim.lsp.buf.completion() at the end of line 7 (line 6 before the first insertion).
      vim.api.nvim_win_set_cursor(0, { 7, 0 })
      keys('A<Cmd>lua vim.lsp.buf.completion()<CR>')
      when_line(7, '    y=x*2', function()
        keys('<Esc>')
        when_line(8, '    return', function()
          vim.cmd('write')
          finish({ ok = true })
        end)
      end)
    end)
  end)
end })
`,
    );
    const r = spawnSync(nvim!, nvimArgs(init), {
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, CODEFUDGE_CACHE: join(root, 'cache') },
    });
    assert.ok(existsSync(result), `nvim wrote no result (status ${r.status}): ${r.stderr}`);
    const out = JSON.parse(readFileSync(result, 'utf8'));
    assert.equal(out.error, undefined, out.error);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('\u0000'), 'no NUL characters');
    assert.equal(text, 'def f(x):\n    y=x*2\n    return\n\n\ndef g(x):\n    y=x*2\n    return\n');
  });

  it(":CodefudgeAdapt shows its progress in the command line and a failure's one-line reason", async () => {
    // The workspace (Neovim's working folder) is no git repository: adapt fails, after its progress began.
    const bin = join(root, 'bin');
    const work = join(root, 'not-a-repo');
    mkdirSync(work, { recursive: true });
    const file = join(work, 'a.py');
    writeFileSync(file, 'x = 1\n');
    const result = join(root, 'adapt.json');
    const init = join(root, 'adapt.lua');
    writeFileSync(
      init,
      `
dofile(${lua(join(root, 'snippet.lua'))})
local codefudge = require('codefudge')
local echoed, notified = {}, {}
local echo = vim.api.nvim_echo
vim.api.nvim_echo = function(chunks, history, opts)
  table.insert(echoed, chunks[1][1])
  return echo(chunks, history, opts)
end
vim.notify = function(msg) table.insert(notified, msg) end
local function finish(data)
  local f = io.open(${lua(result)}, 'w')
  f:write(vim.fn.json_encode(data))
  f:close()
  vim.cmd('qall!')
end
vim.api.nvim_create_autocmd('VimEnter', { nested = true, callback = function()
  vim.cmd('edit ' .. ${lua(file)})
  if not vim.wait(30000, function() return codefudge.client() ~= nil end, 50) then return finish({ error = 'not attached' }) end
  vim.cmd('CodefudgeAdapt')
  local tries = 0
  local function poll()
    for _, m in ipairs(notified) do
      if m:match('adapt failed') then return finish({ echoed = echoed, notified = notified }) end
    end
    tries = tries + 1
    if tries > 1200 then return finish({ error = 'no failure shown', echoed = echoed, notified = notified }) end
    vim.defer_fn(poll, 50)
  end
  vim.defer_fn(poll, 50)
end })
`,
    );
    const r = spawnSync(nvim!, nvimArgs(init), {
      encoding: 'utf8',
      timeout: 90_000,
      cwd: work,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, CODEFUDGE_CACHE: join(root, 'cache') },
    });
    assert.ok(existsSync(result), `nvim wrote no result (status ${r.status}): ${r.stderr}`);
    const out = JSON.parse(readFileSync(result, 'utf8'));
    assert.equal(out.error, undefined, JSON.stringify(out));
    assert.ok(
      out.echoed.some((l: string) => l.startsWith(`codefudge adapt: adapting to ${work}`)),
      JSON.stringify(out.echoed),
    );
    assert.ok(out.echoed.includes('codefudge adapt: ended'), JSON.stringify(out.echoed));
    // The command's answer, and the server's window/showMessage (Neovim prefixes it "LSP[codefudge]").
    const failures = out.notified.filter((m: string) => /adapt failed/.test(m));
    assert.ok(
      failures.some((m: string) => /^codefudge: codefudge adapt failed \(exit 1\): \S/.test(m)),
      JSON.stringify(failures),
    );
    for (const m of failures) assert.doesNotMatch(m, /Node\.js v\d|\n/, 'one line, not the end of a stack trace');
  });
});
