"""Knowledge graph: real Debian headers (Kokkos, hypre), incremental re-index, skipped files,
languages and constructs, source resolution, manifest. No embeddings here (graph-only index);
tests/test_index_retrieval.py covers the vector side."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ellora.knowledge_graph.config import IndexSettings
from ellora.knowledge_graph.indexer import Index
from ellora.knowledge_graph.manifest import find_library, load_manifest
from ellora.knowledge_graph.sources import (
    SourceNotFound,
    debian_files,
    git_clone,
    resolve_sources,
)

GRAPH_ONLY = IndexSettings(vectors=False, clone=False)
KOKKOS_CORE = ["Kokkos_Parallel.hpp", "Kokkos_Parallel_Reduce.hpp", "Kokkos_ExecPolicy.hpp",
               "Kokkos_ScatterView.hpp", "Kokkos_DualView.hpp", "Kokkos_Core.hpp"]
needs_debian = pytest.mark.skipif(
    debian_files("libtrilinos-kokkos-dev") is None or debian_files("libhypre-dev") is None,
    reason="needs libtrilinos-kokkos-dev and libhypre-dev (bash .ci/install as root)")


@pytest.fixture(scope="module")
def ci_corpus(tmp_path_factory):
    """A graph-only index of all Kokkos and hypre headers Debian installed."""
    directory = tmp_path_factory.mktemp("index")
    index = Index(directory, GRAPH_ONLY.model_copy(update={"workers": 2}))  # parse pool
    summaries = {name: index.add(resolve_sources(name, GRAPH_ONLY, directory, "system"))
                 for name in ("kokkos", "hypre")}
    yield index, summaries
    index.close()


@needs_debian
def test_real_corpus_graph_has_every_node_and_edge_kind(ci_corpus):
    index, summaries = ci_corpus
    assert summaries["kokkos"].parsed > 250 and summaries["kokkos"].lines_parsed > 100_000
    assert summaries["hypre"].parsed > 40
    graph = index.graph()
    node_kinds = {data["kind"] for _, data in graph.nodes(data=True)}
    assert {"repository", "file", "namespace", "class", "struct", "function", "method",
            "macro", "api"} <= node_kinds
    edge_kinds = {data["kind"] for _, _, data in graph.edges(data=True)}
    assert edge_kinds == {"contains", "includes", "calls", "references", "inherits", "uses_api"}
    reduce_defs = [n for n, d in graph.nodes(data=True) if d.get("path") ==
                   "Kokkos_Parallel_Reduce.hpp" and d.get("qualified") == "Kokkos::parallel_reduce"]
    assert reduce_defs
    assert "api:Kokkos::parallel_reduce" in graph
    assert any(graph.has_edge("api:Kokkos::parallel_reduce", n) for n in reduce_defs)
    hypre_amg = [n for n, d in graph.nodes(data=True) if d.get("name") == "HYPRE_BoomerAMGCreate"]
    assert hypre_amg and graph.nodes[hypre_amg[0]]["repository"] == "hypre"


@needs_debian
def test_stats_per_library_and_unchanged_reindex_parses_nothing(ci_corpus):
    index, _ = ci_corpus
    stats = index.stats()
    for name in ("kokkos", "hypre"):
        assert stats[name]["nodes"] > 1000 and stats[name]["edges"] > 1000
        assert stats[name]["chunks"] > 100 and stats[name]["origin"].startswith("debian:")
    again = index.add(resolve_sources("kokkos", GRAPH_ONLY, index.directory, "system"))
    assert again.parsed == 0 and again.unchanged == again.files_seen
    assert "graph" not in again.seconds


def _copy_kokkos_core(target: Path) -> Path:
    target.mkdir()
    for name in KOKKOS_CORE:
        shutil.copy(Path("/usr/include/trilinos") / name, target / name)
    return target


@needs_debian
def test_incremental_reindex_changed_touched_and_deleted_files(tmp_path):
    repo = _copy_kokkos_core(tmp_path / "kokkos-core")
    index = Index(tmp_path / "index", GRAPH_ONLY)
    first = index.add(resolve_sources(str(repo), GRAPH_ONLY, index.directory))
    assert first.parsed == len(KOKKOS_CORE) and first.repository == "kokkos-core"

    (repo / "Kokkos_Core.hpp").touch()  # new mtime, same content: hashed, not parsed
    with (repo / "Kokkos_Parallel.hpp").open("a") as handle:
        handle.write("\nnamespace Kokkos { inline int ellora_added_function() { return 1; } }\n")
    (repo / "Kokkos_DualView.hpp").unlink()
    second = index.add(resolve_sources(str(repo), GRAPH_ONLY, index.directory))
    assert (second.parsed, second.removed) == (1, 1)
    assert second.unchanged == len(KOKKOS_CORE) - 2
    graph = index.graph()
    assert any(d.get("qualified") == "Kokkos::ellora_added_function"
               for _, d in graph.nodes(data=True))
    assert not any(d.get("path") == "Kokkos_DualView.hpp" for _, d in graph.nodes(data=True))
    index.close()


def test_binary_non_utf8_huge_and_garbage_files_are_counted_not_fatal(tmp_path):
    repo = tmp_path / "messy"
    repo.mkdir()
    (repo / "good.c").write_text("int add(int a, int b) { return a + b; }\n")
    (repo / "blob.c").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    (repo / "latin1.h").write_bytes("/* caf\xe9 */ int x;\n".encode("latin-1"))
    (repo / "huge.cpp").write_text("int v;\n" * 2000)
    (repo / "garbage.cpp").write_text("}}}} ))) ]]] @@@ ### !!! %%%\n" * 50)
    settings = GRAPH_ONLY.model_copy(update={"max_file_bytes": 10_000})
    index = Index(tmp_path / "index", settings)
    summary = index.add(resolve_sources(str(repo), settings, index.directory))
    assert summary.parsed == 1
    assert dict(summary.skipped) == {"binary": 1, "non-utf8": 1, "huge": 1, "syntax": 1}
    again = index.add(resolve_sources(str(repo), settings, index.directory))
    assert again.parsed == 0 and dict(again.skipped) == dict(summary.skipped)
    assert "graph" not in again.seconds  # nothing changed: no graph rebuild
    (repo / "garbage.cpp").write_text("int now_fine() { return 1; }\n")
    fixed = index.add(resolve_sources(str(repo), settings, index.directory))
    assert fixed.parsed == 1 and "syntax" not in fixed.skipped
    index.close()


def test_c_cuda_fortran_definitions_and_hpc_constructs(tmp_path):
    repo = tmp_path / "mixed"
    repo.mkdir()
    (repo / "reduce.c").write_text(
        "#include <mpi.h>\n/** Sum with OpenMP, then across ranks. */\n"
        "double total(const double *x, int n, MPI_Comm comm) {\n  double s = 0, g = 0;\n"
        "#pragma omp parallel for reduction(+:s)\n  for (int i = 0; i < n; ++i) s += x[i];\n"
        "  MPI_Allreduce(&s, &g, 1, MPI_DOUBLE, MPI_SUM, comm);\n  return g;\n}\n")
    (repo / "saxpy.cu").write_text(
        "__global__ void saxpy(int n, float a, float *x, float *y) {\n"
        "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) y[i] += a * x[i];\n}\n"
        "void run(int n, float *x, float *y) {\n  saxpy<<<(n + 255) / 256, 256>>>(n, 2.f, x, y);\n"
        "  cudaDeviceSynchronize();\n}\n")
    (repo / "solver.f90").write_text(
        "module solver\ncontains\n  subroutine smooth(a, n)\n    integer :: n, i\n"
        "    real :: a(n)\n    !$omp parallel do\n    do i = 1, n\n      a(i) = 0.5 * a(i)\n"
        "    end do\n  end subroutine smooth\nend module solver\n")
    index = Index(tmp_path / "index", GRAPH_ONLY)
    summary = index.add(resolve_sources(str(repo), GRAPH_ONLY, index.directory))
    assert summary.parsed == 3 and not summary.skipped
    graph = index.graph()
    names = {d.get("qualified"): n for n, d in graph.nodes(data=True)}
    assert {"total", "saxpy", "run", "solver::smooth"} <= set(names)
    uses = {(graph.nodes[u].get("qualified"), v) for u, v, d in graph.edges(data=True)
            if d["kind"] == "uses_api"}
    assert {("total", "api:omp parallel for"), ("total", "api:omp reduction"),
            ("total", "api:MPI_Allreduce"), ("saxpy", "api:cuda kernel"),
            ("run", "api:cuda kernel launch"), ("run", "api:cudaDeviceSynchronize"),
            ("solver::smooth", "api:omp parallel do")} <= uses
    assert graph.has_edge(names["run"], names["saxpy"])  # the launch is a call
    index.close()


def test_manifest_names_the_e4s_libraries_with_sources_and_licences():
    manifest = load_manifest()
    wanted = ["kokkos", "kokkos-kernels", "petsc", "hypre", "sundials", "trilinos", "mfem",
              "amrex", "ginkgo", "hdf5", "adios2", "raja", "umpire", "caliper", "hpctoolkit",
              "tau", "papi", "superlu", "heffte", "strumpack"]
    for name in wanted:
        library = manifest[name]
        assert library.repository.startswith("https://") and library.license
    for name in ("adios2", "mfem", "ginkgo", "raja", "umpire", "amrex"):
        assert manifest[name].debian == ()
    assert find_library("Kokkos Kernels").name == "kokkos-kernels"
    assert find_library("SUNDIALS").name == "sundials"


def test_sources_clone_offline_and_helpful_errors(tmp_path):
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    (upstream / "lib.hpp").write_text("namespace lib { int f(); }\n")
    for command in (["init", "-q"], ["add", "."],
                    ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "x"]):
        subprocess.run(["git", *command], cwd=upstream, check=True)
    assert git_clone(upstream.as_uri(), tmp_path / "clone", 60) is None
    assert (tmp_path / "clone" / "lib.hpp").is_file()
    assert git_clone((tmp_path / "nowhere").as_uri(), tmp_path / "clone2", 60)
    assert not (tmp_path / "clone2").exists()

    with pytest.raises(SourceNotFound, match="neither a directory nor a library"):
        resolve_sources("no-such-library", GRAPH_ONLY, tmp_path)
    with pytest.raises(SourceNotFound, match="no sources found for adios2.*Debian does not"):
        resolve_sources("adios2", GRAPH_ONLY, tmp_path)


@needs_debian
def test_system_sources_come_from_the_debian_package_file_list():
    found = resolve_sources("kokkos", GRAPH_ONLY, Path("/nonexistent"), "system")
    assert found.origin == "debian:libtrilinos-kokkos-dev"
    names = {f.name for f in found.files}
    assert "Kokkos_Core.hpp" in names and not any(n.startswith("KokkosBlas") for n in names)


def test_a_configured_spack_prefix_is_found(tmp_path):
    install = tmp_path / "spack" / "linux-x86_64" / "gcc-12" / "kokkos-4.2.0-abcdef"
    (install / "include").mkdir(parents=True)
    (install / "include" / "Kokkos_Core.hpp").write_text("namespace Kokkos { void fence(); }\n")
    settings = GRAPH_ONLY.model_copy(update={"spack_prefixes": [str(tmp_path / "spack")]})
    found = resolve_sources("kokkos", settings, tmp_path, "system")
    assert found.origin == f"prefix:{install}"
    assert [f.name for f in found.files] == ["Kokkos_Core.hpp"]


def test_cli_errors_are_one_line_and_graph_only_cli_works(tmp_path, capsys):
    from ellora.agents.cli.main import main

    where = ["--set", f"index.path={tmp_path / 'index'}"]
    assert main(["index", "add", str(tmp_path / "missing"), *where]) == 2
    assert main(["index", "query", "anything", *where]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 2 and all(line.startswith("ellora: error: ") for line in error)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "scan.cpp").write_text("/// Inclusive prefix sum.\n"
                                   "void prefix_sum(double *x, int n) {\n"
                                   "  for (int i = 1; i < n; ++i) x[i] += x[i - 1];\n}\n")
    assert main(["index", "add", str(repo), "--graph-only", *where]) == 0
    assert main(["index", "query", "prefix sum", *where]) == 0
    out = capsys.readouterr().out
    assert "repo scan.cpp:1-4" in out and "Sources:" in out


def test_bulk_built_graph_is_a_consistent_networkx_graph_and_the_collector_comes_back(
        tmp_path):
    """The builder fills networkx's adjacency dicts directly (one attribute dict per edge
    kind) and pauses the cycle collector while indexing: check both against networkx."""
    import gc

    import networkx as nx

    repo = tmp_path / "shapes"
    repo.mkdir()
    (repo / "shape.hpp").write_text(
        "#pragma once\nnamespace geo {\n/// A shape.\n"
        "struct Shape { virtual double area() const; };\ndouble total(const Shape &s);\n}\n")
    (repo / "square.cpp").write_text(
        '#include "shape.hpp"\nnamespace geo {\nstruct Square : Shape {\n'
        "  double side;\n  double area() const { return side * side; }\n};\n"
        "double total(const Shape &s) { return s.area(); }\n"
        "double twice(const Square &q) {\n#pragma omp parallel for\n"
        "  for (int i = 0; i < 2; ++i) {}\n  return total(q) * 2; }\n}\n")
    collector_was_off = not gc.isenabled()
    gc.disable()  # a caller that turned the collector off keeps it off
    try:
        index = Index(tmp_path / "index", GRAPH_ONLY)
        index.add(resolve_sources(str(repo), GRAPH_ONLY, index.directory))
        assert not gc.isenabled()
    finally:
        if not collector_was_off:
            gc.enable()
    index.add(resolve_sources(str(repo), GRAPH_ONLY, index.directory))
    assert gc.isenabled() or collector_was_off
    built = index.rebuild_graph()
    for graph in (built, index.graph()):  # as built, and as loaded back from disk
        assert set(graph._succ) == set(graph._pred) == set(graph._node)
        assert all(graph._pred[v][u] is data
                   for u, row in graph._succ.items() for v, data in row.items())
        assert sum(map(len, graph._pred.values())) == graph.number_of_edges()
        again = nx.DiGraph()
        again.add_nodes_from(graph.nodes(data=True))
        again.add_edges_from(graph.edges(data=True))
        assert nx.utils.graphs_equal(graph, again)
        assert list(again.edges(data=True)) == list(graph.edges(data=True))
        kinds = {data["kind"] for _, _, data in graph.edges(data=True)}
        assert {"contains", "includes", "calls", "references", "uses_api"} <= kinds
        assert len({id(data) for _, _, data in graph.edges(data=True)}) == len(kinds)
    index.close()


def test_definitions_pickled_by_older_versions_still_load():
    import pickle

    from ellora.knowledge_graph.parse import Definition

    definition = Definition("function", "f", "ns::f", 1, 2, 1, "void f()", True)
    assert pickle.loads(pickle.dumps(definition, protocol=5)) == definition
    before = (b"\x80\x05\x95\xb1\x00\x00\x00\x00\x00\x00\x00\x8c\x1cellora.knowledge_graph.parse"
              b"\x94\x8c\nDefinition\x94\x93\x94)\x81\x94N}\x94(\x8c\x04kind\x94\x8c\x08function"
              b"\x94\x8c\x04name\x94\x8c\x01f\x94\x8c\tqualified\x94\x8c\x05ns::f\x94\x8c\x05start"
              b"\x94K\x01\x8c\x03end\x94K\x02\x8c\tdoc_start\x94K\x01\x8c\tsignature\x94\x8c\x08"
              b"void f()\x94\x8c\x0bdeclaration\x94\x88u\x86\x94b.")  # slots state, no __reduce__
    assert pickle.loads(before) == definition
