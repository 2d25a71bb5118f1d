"""``ellora lsp``: a Language Server (pygls, stdio) that brings the agents into any editor.

Standard LSP methods wherever they exist: code actions (listed instantly from a cached
tree-sitter parse, run through ``codeAction/resolve`` or ``workspace/executeCommand``),
work-done progress with cancellation, ``workspace/applyEdit`` for the result, hover over
Kokkos/MPI/OpenMP API names, compiler diagnostics on save. The agent runs in a worker
subprocess in its own process group (:mod:`ellora.agents.lsp.worker`) so cancelling stops
it and every sandboxed process it started.

Importing this package is cheap: pygls is imported only by :mod:`ellora.agents.lsp.server`.
"""
