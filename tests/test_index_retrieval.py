"""Hybrid retrieval with the real embedding model (all-MiniLM-L6-v2 from PyPI), real Chroma in
a temp dir and real Kokkos/hypre headers; the CLI and the agent's retriever seam."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ellora.knowledge_graph.config import IndexSettings
from ellora.knowledge_graph.indexer import Index
from ellora.knowledge_graph.retrieve import Retriever
from ellora.knowledge_graph.sources import debian_files, resolve_sources

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(debian_files("libtrilinos-kokkos-dev") is None
                       or debian_files("libhypre-dev") is None,
                       reason="needs libtrilinos-kokkos-dev and libhypre-dev (.ci/install)"),
]
KOKKOS_FILES = ["Kokkos_Parallel_Reduce.hpp", "Kokkos_Parallel.hpp", "Kokkos_Core.hpp",
                "Kokkos_DualView.hpp"]
HYPRE_FILES = ["HYPRE_IJ_mv.h"]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory):
    """Kokkos core headers and one hypre header, embedded and stored in Chroma; built once
    for all pytest-xdist workers (the shared base temp dir, a file lock, a done marker)."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent
    directory = shared / "retrieval-index"
    with FileLock(str(shared / "retrieval-index.lock")):
        if not (directory / "built").is_file():
            settings = IndexSettings(path=directory, clone=False)
            index = Index(directory, settings)
            for name, files in (("kokkos", KOKKOS_FILES), ("hypre", HYPRE_FILES)):
                summary = index.add(resolve_sources(name, settings, directory, "system")
                                    .only(files))
                assert summary.parsed == len(files) and summary.chunks_added > 10
            index.close()
            (directory / "built").write_text("ok")
    return directory


@pytest.fixture(scope="session")
def retriever(index_dir):
    opened = Retriever.open(index_dir, IndexSettings(path=index_dir))
    yield opened
    opened.close()


def test_hybrid_query_returns_cited_snippets_with_reasons(retriever):
    snippets = retriever.retrieve("how to do a parallel reduction into a View", k=5)
    assert len(snippets) == 5
    assert any(s.path == "Kokkos_Parallel_Reduce.hpp" and "Kokkos::parallel_reduce" in s.symbols
               for s in snippets)
    for snippet in snippets:
        data = snippet.to_dict()
        assert {"repository", "path", "lines", "score", "why"} <= set(data)
        assert data["why"] and data["lines"] == f"{snippet.start}-{snippet.end}"
        assert snippet.text and snippet.license
    reasons = " ".join(r for s in snippets for r in s.why)
    assert "vector hit" in reasons
    assert "graph" in reasons or "API match" in reasons or "definition of" in reasons


def test_modes_filters_and_identifiers_from_user_code(retriever):
    hypre_only = retriever.retrieve("create a matrix", k=3, filters={"repository": "hypre"})
    assert hypre_only and {s.repository for s in hypre_only} == {"hypre"}
    for mode in ("vector", "graph"):
        assert retriever.retrieve("keep host and device copies in sync", k=3, mode=mode)
    code = "HYPRE_IJMatrix A;\nHYPRE_IJMatrixSetValues(A, nrows, ncols, rows, cols, values);"
    found = retriever.retrieve("what does this call do", k=3, code=code)
    top = found[0]
    assert top.path == "HYPRE_IJ_mv.h" and "HYPRE_IJMatrixSetValues" in top.symbols
    assert any("definition of HYPRE_IJMatrixSetValues" in r for r in top.why)


def test_cli_query_and_stats_print_sources_and_counts(index_dir, capsys):
    from ellora.agents.cli.main import main

    assert main(["index", "query", "how to do a parallel reduction into a View",
                 "--set", f"index.path={index_dir}", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "Sources:" in out and "kokkos Kokkos_Parallel_Reduce.hpp:" in out
    assert main(["index", "stats", "--set", f"index.path={index_dir}"]) == 0
    out = capsys.readouterr().out
    assert "kokkos" in out and "hypre" in out and "total" in out


def test_vectors_follow_changed_and_deleted_files(tmp_path):
    repo = tmp_path / "lib"
    repo.mkdir()
    shutil.copy("/usr/include/trilinos/Kokkos_Core.hpp", repo / "Kokkos_Core.hpp")
    (repo / "extra.hpp").write_text("/// Doubles a value.\ninline int twice(int x) { return 2 * x; }\n")
    settings = IndexSettings(path=tmp_path / "index", clone=False)
    index = Index(tmp_path / "index", settings)
    index.add(resolve_sources(str(repo), settings, index.directory))
    before = index.vectors.count()
    (repo / "extra.hpp").write_text("inline int thrice(int x) { return 3 * x; }\n"
                                    "inline int four(int x) { return 4 * x; }\n")
    summary = index.add(resolve_sources(str(repo), settings, index.directory))
    assert summary.parsed == 1 and index.vectors.count() == before
    stored = index.vectors.collection.get(where={"path": "extra.hpp"}, include=["documents"])
    assert "thrice" in stored["documents"][0] and "twice" not in stored["documents"][0]
    (repo / "extra.hpp").unlink()
    assert index.add(resolve_sources(str(repo), settings, index.directory)).removed == 1
    assert index.vectors.count() == before - 1
    index.close()


def test_agent_services_get_a_retriever_only_when_an_index_exists(index_dir, tmp_path,
                                                                  monkeypatch):
    from ellora.agents.cli.agent_command import _services
    from ellora.agents.settings import load_settings

    monkeypatch.setenv("ELLORA_INDEX__PATH", str(tmp_path / "absent"))
    assert _services(load_settings()).retriever is None
    monkeypatch.setenv("ELLORA_INDEX__PATH", str(index_dir))
    services = _services(load_settings())
    sources = [s.to_dict() for s in services.retriever.retrieve("port this loop to Kokkos "
                                                                "reduction kokkos", k=4)]
    assert len(sources) == 4 and all({"repository", "path", "lines"} <= set(s) for s in sources)
    services.retriever.close()


def test_index_location_defaults_under_the_state_dir(isolated_user_dirs):
    from ellora.agents.settings import load_settings
    from ellora.knowledge_graph.config import index_dir

    settings = load_settings()
    assert index_dir(settings.index, settings.state_dir) == Path(
        isolated_user_dirs / "state" / "ellora" / "index")


def test_a_chroma_server_url_is_used_when_configured(tmp_path):
    import shutil as sh
    import socket
    import subprocess
    import sys
    import time

    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists() and sh.which("chroma") is None:
        pytest.skip("the chroma CLI is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(chroma if chroma.exists() else "chroma"), "run", "--path",
                               str(tmp_path / "server"), "--host", "127.0.0.1", "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        repo = tmp_path / "lib"
        repo.mkdir()
        (repo / "axpy.hpp").write_text("/// y = a*x + y over a range.\n"
                                       "void axpy(int n, double a, const double *x, double *y);\n")
        settings = IndexSettings(path=tmp_path / "index", clone=False,
                                 chroma_url=f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                index = Index(tmp_path / "index", settings)
                index.vectors.count()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        index.add(resolve_sources(str(repo), settings, index.directory))
        assert index.vectors.count() == 1
        assert not (tmp_path / "index" / "chroma").exists()
        index.close()
        found = Retriever.open(tmp_path / "index", settings).retrieve("scaled vector add", k=1)
        assert found[0].path == "axpy.hpp"
    finally:
        server.terminate()
        server.wait(timeout=30)
