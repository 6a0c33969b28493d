-- codefudge for Neovim >= 0.7: starts `codefudge serve` for the configured filetypes and attaches
-- it to their buffers (vim.lsp.start on 0.8+, vim.lsp.start_client + buf_attach_client on 0.7).
--
-- Multi-line completions: Vim's insert-mode completion inserts a word as one line (Neovim 0.7 puts
-- NUL characters where the line breaks were). So the completion menu (omnifunc, and
-- vim.lsp.buf.completion() through this client's handler) offers the first line as the word, with
-- the whole text in user_data, and CompleteDone puts the whole text in place of that first line.
local M = {}

M.defaults = {
  cmd = { 'codefudge', 'serve' },
  filetypes = {
    'python', 'lua', 'javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'go', 'rust',
    'c', 'cpp', 'java', 'ruby', 'sh', 'php', 'cs', 'kotlin', 'swift', 'scala', 'haskell', 'ocaml',
  },
  -- Sent as initializationOptions: model, adapter, maxTokens, mode ('single-line'|'multi-line'),
  -- debounceMs, maxPrefixTokens, maxSuffixTokens, singleLineSuffixTokens, temperature, fimMode, stopOnLoop.
  settings = {},
  -- Insert-mode key that asks for a completion and inserts it; false for none.
  keymap = '<C-Space>',
  -- Also set 'omnifunc' so <C-x><C-o> lists the completion.
  omnifunc = true,
  -- Show the server's $/progress (codefudge.adapt) in the command line.
  progress = true,
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

--- Complete-items (:h complete-items) for the server's completion list; `row` (1-based) and `col`
--- (0-based bytes) are where the item's text starts.
function M.complete_items(result, row, col)
  local items = {}
  for _, item in ipairs((result and (result.items or result)) or {}) do
    local text = (item.textEdit and item.textEdit.newText) or item.insertText or item.label
    local lines = vim.split(text, '\n', true)
    table.insert(items, {
      word = lines[1],
      abbr = item.label,
      menu = '[codefudge]',
      info = text,
      icase = 1,
      dup = 1,
      empty = 1,
      user_data = { codefudge = { text = text, row = row, col = col } },
    })
  end
  return items
end

-- Opens the completion menu with the server's items, if the user is still where they asked.
local function show_menu(result, row, col)
  if vim.fn.mode() ~= 'i' or vim.api.nvim_win_get_cursor(0)[1] ~= row then return end
  local items = M.complete_items(result, row, col)
  -- An explicit request with nothing to offer: the server says so (window/showMessage).
  if #items == 0 then return end
  vim.fn.complete(col + 1, items)
end

--- After a completion of ours was chosen: the menu inserted its first line; put the whole text there.
function M.on_complete_done()
  local item = vim.v.completed_item
  local data = type(item) == 'table' and type(item.user_data) == 'table' and item.user_data.codefudge or nil
  if type(data) ~= 'table' or type(data.text) ~= 'string' then return end
  local lines = vim.split(data.text, '\n', true)
  if #lines < 2 then return end
  local bufnr = vim.api.nvim_get_current_buf()
  local row, col = data.row - 1, data.col
  local current = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  if current:sub(col + 1, col + #lines[1]) ~= lines[1] then return end
  local function replace()
    vim.api.nvim_buf_set_text(bufnr, row, col, row, col + #lines[1], lines)
    pcall(vim.api.nvim_win_set_cursor, 0, { row + #lines, #lines[#lines] })
  end
  -- Some versions lock the text during CompleteDone: then right after it.
  if not pcall(replace) then vim.schedule(replace) end
end

--- 'omnifunc' of codefudge buffers: asks the server, then opens the menu when the answer comes.
function M.omnifunc(findstart, _)
  if findstart ~= 1 then return {} end
  local client = M.client()
  if not client then return -3 end
  local bufnr = vim.api.nvim_get_current_buf()
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = 1 }
  M._request(client, 'textDocument/completion', params, function(err, result)
    if not err then show_menu(result, row, col) end
  end, bufnr)
  -- Stay in completion mode; the menu opens asynchronously (as vim.lsp.omnifunc does).
  return -2
end

-- vim.lsp.buf.completion() uses the client's handler: the same menu, multi-line aware.
local function completion_handler(err, result, ctx)
  if err or not result then return end
  local row = ctx.params.position.line + 1
  local line = vim.api.nvim_buf_get_lines(ctx.bufnr, row - 1, row, false)[1] or ''
  local ok, col = pcall(vim.str_byteindex, line, ctx.params.position.character, true)
  show_menu(result, row, ok and col or #line)
end

-- $/progress in the command line (Neovim 0.7 shows none at all). The end carries no outcome: the
-- command's own answer (or error) is shown after it.
local progress_titles = {}
local function progress_handler(err, result, ctx, cfg)
  local default = vim.lsp.handlers['$/progress']
  if default then pcall(default, err, result, ctx, cfg) end
  local value = result and result.value
  if not config.progress or type(value) ~= 'table' then return end
  local token = tostring(result.token)
  if value.kind == 'begin' then progress_titles[token] = value.title end
  local title = progress_titles[token] or 'codefudge'
  local text = value.message or ''
  if value.percentage then text = string.format('%s (%d%%)', text, value.percentage) end
  if value.kind == 'end' then
    progress_titles[token] = nil
    text = 'ended'
  end
  vim.api.nvim_echo({ { title .. ': ' .. text } }, false, {})
end

local function client_config(bufnr)
  return {
    name = 'codefudge',
    cmd = config.cmd,
    root_dir = root_dir(bufnr),
    init_options = config.settings,
    settings = { codefudge = config.settings },
    handlers = { ['textDocument/completion'] = completion_handler, ['$/progress'] = progress_handler },
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
M._request = request

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
    vim.api.nvim_buf_set_option(bufnr, 'omnifunc', "v:lua.require'codefudge'.omnifunc")
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
  vim.api.nvim_create_autocmd('CompleteDone', { group = group, callback = function() M.on_complete_done() end })
  vim.api.nvim_create_user_command('CodefudgeStatus', function() command('codefudge.status') end, {})
  vim.api.nvim_create_user_command('CodefudgeAdapt', function() command('codefudge.adapt') end, {})
  vim.api.nvim_create_user_command('CodefudgeSuggestDiff', function(o) M.suggest_diff(o.args) end, { nargs = '+' })
end

return M
