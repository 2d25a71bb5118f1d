"""End to end in a real editor: headless Neovim attached to ``ellora lsp`` asks for the code
actions on the saxpy loop, picks "Parallelize with OpenMP" like a user would (the selection
UI answered by the script), lets the agent run (progress arrives as ``$/progress``), applies the
edit the server returns and writes the file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from lsp_support import LEAN_AGENT, copy_saxpy

NVIM = shutil.which("nvim")

INIT_LUA = """
local root = vim.env.ELLORA_ROOT
local progress = {}
local function finish(outcome)
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n")
  if outcome == "applied" then vim.cmd("silent write") end
  local file = io.open(root .. "/result.json", "w")
  file:write(vim.fn.json_encode({outcome = outcome, progress = progress, text = text}))
  file:close()
  vim.cmd("qall!")
end
vim.ui.select = function(items, _, on_choice)
  for _, item in ipairs(items) do
    if item[2].title == "Parallelize with OpenMP" then return on_choice(item) end
  end
  finish("no such action")
end
local client_id = vim.lsp.start_client({
  name = "ellora",
  cmd = vim.fn.json_decode(vim.env.ELLORA_CMD),
  root_dir = root,
  init_options = vim.fn.json_decode(vim.env.ELLORA_OPTIONS),
  handlers = {
    ["$/progress"] = function(err, result, ctx, config)
      table.insert(progress, result.value.message or result.value.title or result.value.kind)
      return vim.lsp.handlers["$/progress"](err, result, ctx, config)
    end,
  },
})
vim.cmd("edit " .. root .. "/saxpy.cpp")
vim.lsp.buf_attach_client(0, client_id)
local ready = vim.wait(60000, function()
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized
end, 100)
if not ready then return finish("server did not initialize") end
vim.api.nvim_win_set_cursor(0, {6, 8})
vim.lsp.buf.code_action()
local applied = vim.wait(150000, function()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("#pragma omp") ~= nil
end, 200)
finish(applied and "applied" or "timed out")
"""


@pytest.mark.skipif(NVIM is None, reason="neovim is not installed (apt-get install neovim)")
def test_neovim_applies_the_openmp_code_action_to_the_file(tmp_path):
    saxpy = copy_saxpy(tmp_path)
    (tmp_path / "init.lua").write_text(INIT_LUA)
    env = {"ELLORA_ROOT": str(tmp_path), "ELLORA_OPTIONS": json.dumps(LEAN_AGENT),
           "ELLORA_CMD": json.dumps([sys.executable, "-m", "ellora.agents.cli.main", "lsp"])}
    completed = subprocess.run(
        [NVIM, "--headless", "-n", "-i", "NONE", "--noplugin", "-u", str(tmp_path / "init.lua")],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True,
        timeout=240, check=False)
    result_file = tmp_path / "result.json"
    assert result_file.is_file(), completed.stderr[-2000:]
    result = json.loads(result_file.read_text())
    assert result["outcome"] == "applied", result
    written = saxpy.read_text()
    assert "#pragma omp parallel for" in written and "y[i] = a * x[i] + y[i];" in written
    assert any("compile attempt 1" in str(message) for message in result["progress"])
