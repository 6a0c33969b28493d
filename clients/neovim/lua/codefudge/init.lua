-- codefudge for Neovim >= 0.7: starts `codefudge serve` for the configured filetypes and attaches
-- it to their buffers (vim.lsp.start on 0.8+, vim.lsp.start_client + buf_attach_client on 0.7).
local M = {}

M.defaults = {
  cmd = { 'codefudge', 'serve' },
  filetypes = {
    'python', 'lua', 'javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'go', 'rust',
    'c', 'cpp', 'java', 'ruby', 'sh', 'php', 'cs', 'kotlin', 'swift', 'scala', 'haskell', 'ocaml',
  },
  -- Sent as initializationOptions: model, adapter, maxTokens, mode ('single-line'|'multi-line'),
  -- debounceMs, maxPrefixTokens, maxSuffixTokens, temperature, fimMode, stopOnLoop.
  settings = {},
  -- Insert-mode key that asks for a completion and inserts it; false for none.
  keymap = '<C-Space>',
  -- Also set 'omnifunc' so <C-x><C-o> lists the completion.
  omnifunc = true,
}

local config = vim.deepcopy(M.defaults)
local client_id = nil -- Neovim 0.7: the one client, started on first use

local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local start = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.fn.getcwd()
  local git = vim.fn.finddir('.git', start .. ';')
  if git ~= '' then return vim.fn.fnamemodify(git, ':p:h:h') end
  return vim.fn.getcwd()
end

local function client_config(bufnr)
  return {
    name = 'codefudge',
    cmd = config.cmd,
    root_dir = root_dir(bufnr),
    init_options = config.settings,
    settings = { codefudge = config.settings },
    on_attach = function(_, buf) M.on_attach(buf) end,
  }
end

--- The codefudge client of `bufnr` (current buffer by default), or nil.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, c in pairs(clients) do
    if c.name == 'codefudge' then return c end
  end
  return nil
end

-- client:request on 0.11+, client.request before it.
local function request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.lsp.start then
    vim.lsp.start(client_config(bufnr), { bufnr = bufnr })
    return
  end
  if not client_id or not vim.lsp.get_client_by_id(client_id) then
    client_id = vim.lsp.start_client(client_config(bufnr))
  end
  if client_id then vim.lsp.buf_attach_client(bufnr, client_id) end
end

function M.on_attach(bufnr)
  if config.omnifunc then
    vim.api.nvim_buf_set_option(bufnr, 'omnifunc', 'v:lua.vim.lsp.omnifunc')
  end
  if config.keymap then
    vim.api.nvim_buf_set_keymap(bufnr, 'i', config.keymap, '<Cmd>lua require("codefudge").complete()<CR>',
      { noremap = true, silent = true })
  end
end

--- Inserts the completion at the cursor (what the keymap does).
function M.complete()
  local client = M.client()
  if not client then
    vim.notify('codefudge: not attached to this buffer', vim.log.levels.WARN)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = 1 }
  request(client, 'textDocument/completion', params, function(err, result)
    if err or not result then return end
    local item = (result.items or result)[1]
    if not item or not item.textEdit then return end
    vim.lsp.util.apply_text_edits({ item.textEdit }, bufnr, client.offset_encoding or 'utf-16')
    -- Leave the cursor after the inserted text.
    local lines = vim.split(item.textEdit.newText, '\n', true)
    local start = item.textEdit.range.start
    local row = start.line + #lines
    local col = (#lines == 1 and start.character or 0) + #lines[#lines]
    pcall(vim.api.nvim_win_set_cursor, 0, { row, col })
  end, bufnr)
end

--- Asks for the change a commit `message` describes in the current file and applies it.
function M.suggest_diff(message)
  local client = M.client()
  if not client then
    vim.notify('codefudge: not attached to this buffer', vim.log.levels.WARN)
    return
  end
  local params = { command = 'codefudge.suggestDiff', arguments = { vim.uri_from_bufnr(0), message } }
  request(client, 'workspace/executeCommand', params, function(err, edit)
    if err then
      vim.notify('codefudge: ' .. err.message, vim.log.levels.ERROR)
    elseif edit then
      vim.lsp.util.apply_workspace_edit(edit, client.offset_encoding or 'utf-16')
    end
  end, vim.api.nvim_get_current_buf())
end

local function command(name, args)
  local client = M.client()
  if not client then
    vim.notify('codefudge: not attached to this buffer', vim.log.levels.WARN)
    return
  end
  request(client, 'workspace/executeCommand', { command = name, arguments = args }, function(err, result)
    if err then
      vim.notify('codefudge: ' .. err.message, vim.log.levels.ERROR)
    else
      vim.notify(vim.inspect(result))
    end
  end, vim.api.nvim_get_current_buf())
end

function M.setup(opts)
  config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  if opts and opts.filetypes then config.filetypes = opts.filetypes end
  local group = vim.api.nvim_create_augroup('codefudge', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = config.filetypes,
    callback = function(ev) M.attach(ev.buf) end,
  })
  vim.api.nvim_create_user_command('CodefudgeStatus', function() command('codefudge.status') end, {})
  vim.api.nvim_create_user_command('CodefudgeAdapt', function() command('codefudge.adapt') end, {})
  vim.api.nvim_create_user_command('CodefudgeSuggestDiff', function(o) M.suggest_diff(o.args) end, { nargs = '+' })
end

return M
