-- Drives Neovim headless for test/lsp/neovim.test.ts: attach fwlens-language-server over stdio to
-- one file, wait for diagnostics, ask for a hover on the CIDR of the outage rule (-s 0.0.0.0/0), write both as JSON.
-- Works with Neovim 0.7 (Debian 12: vim.lsp.start_client) and later (vim.lsp.start).
local server = os.getenv('FWLENS_SERVER')
local file = os.getenv('FWLENS_FILE')
local out = os.getenv('FWLENS_OUT')

local function finish(result)
  local f = io.open(out, 'w')
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd('qall!')
end

vim.cmd('edit ' .. vim.fn.fnameescape(file))
vim.bo.filetype = 'iptables'
local bufnr = vim.api.nvim_get_current_buf()
local config = { name = 'fwlens', cmd = { 'node', server, '--stdio' }, root_dir = vim.fn.getcwd() }
local client_id
if vim.lsp.start then
  client_id = vim.lsp.start(config)
else
  client_id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(bufnr, client_id)
end
if not client_id then finish({ error = 'the client did not start' }) return end

local got = vim.wait(15000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
local diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(bufnr)) do
  local lsp = (d.user_data and d.user_data.lsp) or {}
  table.insert(diagnostics, {
    lnum = d.lnum, col = d.col, severity = d.severity, message = d.message,
    source = d.source, code = d.code or lsp.code,
  })
end

local hline, hcol
for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
  local s = l:find('-A INPUT -s 0.0.0.0/0', 1, true)
  if s then hline = i - 1; hcol = s + 12; break end
end
local hover
if hline then
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = hline, character = hcol } }
  local res = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', params, 10000)
  for _, r in pairs(res or {}) do
    if r.result and r.result.contents then hover = r.result.contents.value or r.result.contents end
  end
end
finish({ waited = got, diagnostics = diagnostics, hover = hover, hoverLine = hline })
