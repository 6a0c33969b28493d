// End to end in a real editor: headless Neovim loads clients/neovim, which starts the built server,
// opens a Python file, asks for a completion and applies its text edit; the file on disk must then
// hold exactly the text the server returned.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, REPO } from '../helpers/lsp-client.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';
import { nvim, nvimArgs } from '../helpers/neovim.js';

const root = mkdtempSync(join(tmpdir(), 'cf-nvim-'));
after(() => rmSync(root, { recursive: true, force: true }));

const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal here

describe('Neovim with clients/neovim', { skip: nvim ? false : 'nvim is not installed (.ci/run installs it)' }, () => {
  it("inserts the server's completion into the buffer", async () => {
    const model = join(root, 'model');
    await makeScriptedModel(model, 'return x');
    const file = join(root, 'double.py');
    writeFileSync(file, 'def double(x):\n    \n\n\ndef triple(x):\n    \n');
    const result = join(root, 'result.json');
    const init = join(root, 'init.lua');
    writeFileSync(
      init,
      `
vim.opt.runtimepath:append(${lua(join(REPO, 'clients', 'neovim'))})
local codefudge = require('codefudge')
codefudge.setup({
  cmd = { ${lua(process.execPath)}, ${lua(CLI)}, 'serve', '--model', ${lua(model)}, '--threads', '1' },
  settings = { debounceMs = 0 },
})
local function finish(data)
  local f = io.open(${lua(result)}, 'w')
  f:write(vim.fn.json_encode(data))
  f:close()
end
-- After startup (filetype detection is switched on only after the init file), nested so that :edit runs the FileType autocommands.
vim.api.nvim_create_autocmd('VimEnter', { nested = true, callback = function()
local ok, err = pcall(function()
  vim.cmd('edit ' .. ${lua(file)})
  assert(vim.wait(30000, function() return codefudge.client() ~= nil end, 50), 'the codefudge client did not attach')
  -- 1. A raw LSP request, its first item's edit applied by Neovim's own function.
  local client = codefudge.client()
  local params = { textDocument = vim.lsp.util.make_text_document_params(), position = { line = 1, character = 4 } }
  local responses = vim.lsp.buf_request_sync(0, 'textDocument/completion', params, 30000)
  local item = nil
  for _, r in pairs(responses or {}) do
    if r.result then item = (r.result.items or r.result)[1] end
  end
  assert(item and item.textEdit, 'no completion item: ' .. vim.inspect(responses))
  vim.lsp.util.apply_text_edits({ item.textEdit }, 0, client.offset_encoding or 'utf-16')
  -- 2. The plugin's own insert-mode completion (what its keymap runs). A script stays in normal
  -- mode, where the cursor cannot sit past the line's end as it does in insert mode: allow it.
  vim.opt.virtualedit = 'onemore'
  vim.api.nvim_win_set_cursor(0, { 6, 4 })
  codefudge.complete()
  assert(vim.wait(30000, function() return vim.api.nvim_buf_get_lines(0, 5, 6, false)[1] ~= '    ' end, 50), 'complete() inserted nothing')
  vim.cmd('write')
  finish({ newText = item.textEdit.newText, label = item.label, cursor = vim.api.nvim_win_get_cursor(0) })
end)
if not ok then finish({ error = tostring(err) }) end
vim.cmd('qall!')
end })
`,
    );
    const r = spawnSync(nvim!, nvimArgs(init), {
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') },
    });
    assert.ok(existsSync(result), `nvim wrote no result (status ${r.status}): ${r.stderr}`);
    const out = JSON.parse(readFileSync(result, 'utf8'));
    assert.equal(out.error, undefined, out.error);
    assert.equal(out.newText, 'return x');
    assert.equal(out.label, 'return x');
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[1], `    ${out.newText}`, 'the buffer holds the text the server returned');
    assert.equal(lines[5], '    return x', "the keymap's completion was inserted too");
    assert.deepEqual(out.cursor, [6, 12], 'the cursor is left after the inserted text');
  });
});
