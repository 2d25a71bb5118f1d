"""``ellora lsp`` driven by a real LSP client (pytest-lsp) over stdio: lifecycle, code actions,
hover, configuration and the errors that must keep the server serving.

The agent-running paths (progress, applyEdit, cancel, edits racing a task) are in
test_lsp_tasks.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import pytest_lsp
from lsp_support import (
    LEAN_AGENT,
    SERVER,
    TITLES,
    actions_at,
    copy_saxpy,
    ellora_client,
    open_document,
    start_session,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

FORTRAN = """program p
  integer :: i
  real :: y(10)
  do i = 1, 10
    y(i) = 2.0 * i
  end do
end program p
"""
KOKKOS = """#include <Kokkos_Core.hpp>
void scale(Kokkos::View<double*> v) {
  Kokkos::parallel_for("scale", v.extent(0), KOKKOS_LAMBDA(int i) { v(i) *= 2; });
  MPI_Barrier(MPI_COMM_WORLD);
  int n = omp_get_num_threads();
}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=ellora_client))
async def client(lsp_client: LanguageClient, tmp_path):
    await start_session(lsp_client, tmp_path, LEAN_AGENT)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_initialize_advertises_actions_commands_hover_and_incremental_sync(client):
    capabilities = client.initialize_result.capabilities
    assert capabilities.code_action_provider.resolve_provider is True
    assert "refactor.rewrite.ellora.openmp" in capabilities.code_action_provider.code_action_kinds
    assert list(capabilities.execute_command_provider.commands) == ["ellora.runAction"]
    assert capabilities.hover_provider
    assert capabilities.text_document_sync.change == types.TextDocumentSyncKind.Incremental


@pytest.mark.asyncio
async def test_actions_on_loop_under_cursor_selection_and_fortran(client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    on_loop = await actions_at(client, uri, (5, 8))  # inside the loop body (0-based line 5)
    assert [a.title for a in on_loop] == TITLES
    assert on_loop[1].data == {"action": "openmp", "uri": uri, "version": 1, "firstLine": 5,
                               "lastLine": 7}
    assert on_loop[1].command.command == "ellora.runAction"
    assert await actions_at(client, uri, (0, 3)) is None  # a comment: no loop, no selection
    selected = await actions_at(client, uri, (3, 0), (7, 1))
    assert selected[0].data["firstLine"] == 4 and selected[0].data["lastLine"] == 8
    only = await actions_at(client, uri, (5, 8), only=["refactor.rewrite"])
    assert "Explain this code" not in [a.title for a in only] and len(only) == 5
    fortran = tmp_path / "p.f90"
    fortran.write_text(FORTRAN)
    f_uri = open_document(client, fortran, language="fortran")
    on_do = await actions_at(client, f_uri, (4, 6))
    assert [a.title for a in on_do] == TITLES and on_do[0].data["firstLine"] == 4
    text = tmp_path / "notes.txt"
    text.write_text("for (;;) {}\n")
    assert await actions_at(client, open_document(client, text, language="plaintext"),
                            (0, 2)) is None


@pytest.mark.asyncio
async def test_incremental_edits_move_the_loop_the_actions_see(client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(3, 0), types.Position(3, 0)),
            text="// two new\n// lines\n")]))
    moved = await actions_at(client, uri, (7, 8))
    assert moved[0].data["firstLine"] == 7 and moved[0].data["version"] == 2


@pytest.mark.asyncio
async def test_hover_shows_signature_doc_and_location_of_api_names(client, tmp_path):
    source = tmp_path / "k.cpp"
    source.write_text(KOKKOS)
    uri = open_document(client, source)

    async def hover(line, character):
        return await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character)))

    kokkos = await hover(2, 14)
    assert "parallel_for" in kokkos.contents.value
    assert "Kokkos_Parallel.hpp" in kokkos.contents.value
    assert kokkos.range.start.character == 10 and kokkos.range.end.character == 22
    mpi = await hover(3, 5)
    assert "MPI_Barrier(MPI_Comm comm)" in mpi.contents.value and "mpi.h" in mpi.contents.value
    omp = await hover(4, 12)
    assert "omp_get_num_threads" in omp.contents.value and "omp.h" in omp.contents.value
    assert await hover(1, 0) is None  # "void"


MYLIB = """#pragma once
namespace mylib {
/// Scaled vector addition: y = a * x + y over n elements.
inline void axpy(int n, double a, const double* x, double* y) {
  for (int i = 0; i < n; ++i) y[i] = a * x[i] + y[i];
}
}  // namespace mylib
"""


@pytest.mark.asyncio
async def test_hover_answers_from_the_knowledge_graph_when_an_index_exists(client, tmp_path):
    library, index = tmp_path / "mylib", tmp_path / "index"
    library.mkdir()
    (library / "mylib.hpp").write_text(MYLIB)
    await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "ellora.agents.cli.main", "index", "add", str(library), "--name",
        "mylib", "--graph-only", "--set", f"index.path={index}"], check=True,
        capture_output=True, timeout=120)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"indexLocation": str(index)}))
    source = tmp_path / "use.cpp"
    source.write_text('#include "mylib.hpp"\nvoid f(double* x, double* y) {\n'
                      "  mylib::axpy(8, 2.0, x, y);\n}\n")
    uri = open_document(client, source)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(2, 11)))
    assert "Scaled vector addition" in hover.contents.value
    assert "mylib: mylib.hpp:3" in hover.contents.value


@pytest.mark.asyncio
async def test_unsupported_ports_are_clean_errors_and_the_server_keeps_serving(client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    actions = await actions_at(client, uri, (5, 8))
    cuda = next(a for a in actions if a.title == "Port to CUDA")
    with pytest.raises(JsonRpcException, match="CUDA ports are not supported yet"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=cuda.command.command, arguments=cuda.command.arguments))
    assert any("CUDA ports are not supported yet" in m.message for m in client.messages)
    fortran = tmp_path / "p.f90"
    fortran.write_text(FORTRAN)
    f_uri = open_document(client, fortran, language="fortran")
    kokkos = (await actions_at(client, f_uri, (4, 6)))[0]
    with pytest.raises(JsonRpcException, match="C and C\\+\\+ only"):
        await client.code_action_resolve_async(kokkos)
    assert len(await actions_at(client, uri, (5, 8))) == 6


@pytest.mark.asyncio
async def test_a_task_naming_a_target_ellora_cannot_write_is_refused_naming_those_it_can(
        client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    for task, name in (("port this loop to SYCL", "SYCL"), ("rewrite it in HIP", "HIP"),
                       ("use OpenACC here", "OpenACC")):
        arguments = [{"action": "openmp", "uri": uri, "version": 1, "firstLine": 5,
                      "lastLine": 7, "task": task}]
        with pytest.raises(JsonRpcException) as caught:
            await asyncio.wait_for(client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="ellora.runAction", arguments=arguments)), 30)
        assert caught.value.code == -32602
        assert f"{name} ports are not supported yet" in str(caught.value)
        assert "OpenMP, Kokkos or MPI" in str(caught.value)
    assert len(await actions_at(client, uri, (5, 8))) == 6


@pytest.mark.asyncio
async def test_lines_without_code_are_refused_before_any_task_starts(client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    fortran = tmp_path / "p.f90"
    fortran.write_text("program p\n  ! say what it does, 'quoted'\n\n  ! more\n" + FORTRAN[10:])
    f_uri = open_document(client, fortran, language="fortran")
    for doc, action, first, last in ((uri, "openmp", 1, 3), (uri, "kokkos", 8, 8),
                                     (f_uri, "explain", 2, 4)):
        arguments = [{"action": action, "uri": doc, "version": 1, "firstLine": first,
                      "lastLine": last}]
        with pytest.raises(JsonRpcException) as caught:
            await asyncio.wait_for(client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="ellora.runAction", arguments=arguments)), 30)
        assert caught.value.code == -32602
        assert f"lines {first}-{last} of" in str(caught.value)
        assert "hold no code to change" in str(caught.value)


@pytest.mark.asyncio
async def test_malformed_and_out_of_order_requests_get_errors_not_crashes(client, tmp_path):
    saxpy = copy_saxpy(tmp_path)
    assert await actions_at(client, saxpy.as_uri(), (5, 8)) is None  # not opened yet
    uri = open_document(client, saxpy)
    for arguments, expected in (([{"action": "teleport"}], "unknown action"),
                                ([{"action": "openmp", "uri": uri, "firstLine": 9,
                                   "lastLine": 2}], "bad line range"),
                                ([{"action": "openmp", "uri": uri, "version": 7,
                                   "firstLine": 5, "lastLine": 7}], "changed since"),
                                ([{"action": "openmp", "uri": uri, "version": 1,
                                   "firstLine": 5, "lastLine": 70}], "outside"),
                                (["nonsense"], "expected one object")):
        with pytest.raises(JsonRpcException, match=expected):
            await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="ellora.runAction", arguments=arguments))
    with pytest.raises(JsonRpcException):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="ellora.noSuchCommand"))
    with pytest.raises(JsonRpcException):  # a method the server does not know
        await client.protocol.send_request_async("ellora/noSuchMethod", {"bogus": True})
    bad_params = (b'{"jsonrpc": "2.0", "id": 9001, "method": "textDocument/codeAction", '
                  b'"params": {"bogus": true}}')
    for body in (bad_params, b'{"jsonrpc": "2.0", "id": 9002, "method'):
        client.protocol.writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    client.text_document_did_change(types.DidChangeTextDocumentParams(  # never opened
        text_document=types.VersionedTextDocumentIdentifier(uri="file:///nowhere.cpp",
                                                            version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")]))
    garbage = tmp_path / "broken.cpp"
    garbage.write_text("for (int i = 0; i < n; ++i { y[i] = }}} template <<<\n")
    broken = await actions_at(client, open_document(client, garbage), (0, 5))
    assert broken is None or all(a.data["firstLine"] == 1 for a in broken)
    assert len(await actions_at(client, uri, (5, 8))) == 6


@pytest.mark.asyncio
async def test_configuration_changes_apply_and_bad_values_are_reported(client):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"ellora": {"agent": {"threads": "many"}}}))
    await client.wait_for_notification("window/showMessage")
    assert any("bad setting agent.threads" in m.message and "unchanged" in m.message
               for m in client.messages)
