"""The language server's pure pieces, on real inputs: incremental tree edits against full
parses, regions under the cursor, minimal edits, editor options -> settings, progress."""

from __future__ import annotations

import random

import pytest
from ellora.agents.cli.errors import UserError
from ellora.agents.lsp.actions import programming_model_of
from ellora.agents.lsp.config import options_to_overrides
from ellora.agents.lsp.documents import SyntaxDocument, _parser, region_for
from ellora.agents.lsp.edits import changed_lines, text_edit
from ellora.agents.lsp.progress import ProgressTracker
from ellora.agents.settings import load_settings
from lsprotocol.types import Position, Range, TextDocumentContentChangePartial
from pygls.workspace.position_codec import PositionCodec
from pygls.workspace.text_document import TextDocument

FUNCTION = ("void f{i}(int n, float* y) {{\n  for (int i = 0; i < n; ++i) {{\n"
            "    y[i] = y[i] * {i}.0f + 1;  // é 😋\n  }}\n}}\n")


def test_incremental_edits_keep_the_tree_equal_to_a_full_parse():
    text = "".join(FUNCTION.format(i=i) for i in range(200))
    document, codec = TextDocument("file:///f.cpp", text, 1), PositionCodec()
    syntax = SyntaxDocument("cpp")
    syntax.current_tree(document.source)
    rng = random.Random(7)
    for step in range(40):
        # a loop body line ("    y[i] = y[i] * 7.0f + 1;  // ..."); every edit keeps it valid
        line = rng.choice([n for n, text in enumerate(document.lines) if "// " in text])
        body = document.lines[line].rstrip("\n")
        comment = body.index("// ") + 3
        utf16_end = codec.client_num_units(body)
        new_text, start, end = [("y[i] += 1;\n    ", 4, 4), ("42", 18, 19),
                                ("x ", comment, comment), (" tail", utf16_end, utf16_end),
                                ("é", comment, comment + 1)][step % 5]
        change = TextDocumentContentChangePartial(
            range=Range(Position(line, start), Position(line, end)), text=new_text)
        syntax.edit(document.source, change, codec)
        document.apply_change(change)
        if step % 10 == 9:
            full = _parser("cpp").parse(document.source.encode())
            assert str(syntax.current_tree(document.source).root_node) == str(full.root_node)


def test_region_is_the_innermost_loop_or_the_selected_lines():
    text = "void g(int n, double* a) {\n  for (int i = 0; i < n; ++i)\n" \
           "    for (int j = 0; j < n; ++j) {\n      a[i * n + j] = 0;\n    }\n}\n"
    syntax, codec = SyntaxDocument("cpp"), PositionCodec()

    def region(start, end=None):
        end = end or start
        return region_for(syntax, text, Range(Position(*start), Position(*end)), codec)

    assert (region((3, 8)).first_line, region((3, 8)).last_line) == (3, 5)
    assert (region((1, 4)).first_line, region((1, 4)).last_line) == (2, 5)
    assert region((0, 2)) is None
    selected = region((1, 0), (3, 0))
    assert (selected.first_line, selected.last_line, selected.origin) == (2, 3, "selection")
    fortran = SyntaxDocument("fortran")
    source = "program p\n  do i = 1, 3\n    x = i\n  end do\nend program p\n"
    found = region_for(fortran, source, Range(Position(2, 5), Position(2, 5)), codec)
    assert (found.first_line, found.last_line) == (2, 4)


def test_the_edit_replaces_only_the_changed_lines():
    original = "a\nb\nc\nd\n"
    assert changed_lines(original, "a\nb\n#pragma\nc\nd\n") == (2, 2, "#pragma\n")
    assert changed_lines(original, "a\nX\nd\n") == (1, 3, "X\n")
    edit = text_edit("x\ny", "x\nz", PositionCodec())
    assert (edit.range.start.line, edit.range.end.line, edit.range.end.character) == (1, 1, 1)
    assert edit.new_text == "z"


def test_editor_options_map_onto_settings_overrides():
    overrides = options_to_overrides({"ellora": {
        "modelEndpoint": "http://127.0.0.1:9/v1", "indexLocation": "/data/index",
        "sandboxLimits": {"wall_s": 30}, "diagnosticsOnSave": True,
        "agent": {"threads": [1, 4]}, "set": ["model.max_tokens=99"]}})
    settings = load_settings(overrides)
    assert settings.model.provider == "openai-compatible"
    assert settings.model.base_url == "http://127.0.0.1:9/v1" and settings.model.max_tokens == 99
    assert str(settings.index.path) == "/data/index" and settings.sandbox.wall_s == 30
    assert settings.lsp.diagnostics_on_save and settings.agent.threads == [1, 4]
    with pytest.raises(UserError, match="must be an object"):
        options_to_overrides(["not", "an", "object"])
    with pytest.raises(UserError, match="bad setting sandbox.wall_s"):
        load_settings(options_to_overrides({"sandboxLimits": {"wall_s": -1}}))


def test_progress_follows_the_graph_through_a_fix_round():
    tracker = ProgressTracker()
    steps = [("planner", "model: the model writes the change"), ("coder", "attempt 1: model"),
             ("tester", "the candidate does not compile; back to the coder"),
             ("coder", "attempt 2: model"), ("tester", "built both; harness: passed"),
             ("profiler", "speedup over the original: 2 threads: 1.9x")]
    messages = [tracker.advance({"node": node, "summary": text})[0] for node, text in steps]
    assert messages[0].endswith("now coding (attempt 1)")
    assert messages[1].endswith("now compile attempt 1 and testing")
    assert messages[2].endswith("now coding (attempt 2)")
    assert messages[3].endswith("now compile attempt 2 and testing")
    assert messages[4].endswith("now profiling (original vs candidate)")
    assert messages[5].endswith("now reporting")


def test_programming_model_of_existing_code():
    assert programming_model_of("__global__ void k() {}") == "cuda"
    assert programming_model_of("Kokkos::parallel_for(n, f);") == "kokkos"
    assert programming_model_of("MPI_Allreduce(a, b, 1, MPI_DOUBLE, MPI_SUM, c);") == "mpi"
    assert programming_model_of("#pragma omp parallel for\nfor (;;) {}") == "openmp"
    assert programming_model_of("for (;;) {}") == "serial"
