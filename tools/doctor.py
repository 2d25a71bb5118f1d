"""``ellora doctor``: what this machine can build and run, and how to install what is missing."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _checks(chain) -> list[tuple[str, str | None, str]]:
    kokkos = chain.kokkos
    kokkos_text = f"{kokkos.origin}: backends {', '.join(kokkos.backends)}" if kokkos else None
    return [
        (
            "C++ compiler (OpenMP)",
            f"{chain.cxx} ({chain.cxx_version})" if chain.cxx else None,
            chain.missing.get("c++", ""),
        ),
        (
            "MPI",
            f"{chain.mpirun} ({chain.mpi_version})" if chain.mpicxx else None,
            chain.missing.get("mpi", ""),
        ),
        ("Kokkos", kokkos_text, chain.missing.get("kokkos", "")),
        (
            "Fortran compiler (OpenMP)",
            _fortran_text(chain.fortran),
            chain.missing.get("fortran", ""),
        ),
        (
            "MPI Fortran wrapper (mpi_f08)",
            chain.fortran.mpifort if chain.fortran and chain.fortran.mpifort else None,
            chain.missing.get("mpi-fortran", ""),
        ),
        (
            "CUDA compiler",
            f"{chain.nvcc} ({chain.nvcc_version}); "
            f"{'GPU present' if chain.gpu_present else 'no GPU: compile only'}"
            if chain.nvcc
            else None,
            chain.missing.get("cuda", ""),
        ),
        ("HIP compiler", chain.hipcc, "hipcc not found: install ROCm for HIP builds"),
    ]


def _fortran_text(fortran) -> str | None:
    """gfortran and flang with their versions, whichever were found."""
    if fortran is None:
        return None
    found = [f"{path} ({version})" if version else path
             for path, version in ((fortran.fc, fortran.fc_version),
                                   (fortran.flang, fortran.flang_version)) if path]
    return "; ".join(found) or None


def run(args: argparse.Namespace) -> int:
    from ellora.agents.services import create_task_sandbox
    from ellora.agents.settings import load_settings
    from ellora.tools.toolchain import detect_toolchain

    settings = load_settings()
    sandbox = create_task_sandbox(settings)
    chain = detect_toolchain(sandbox, settings.toolchain.kokkos_prefix)
    isolation = getattr(sandbox, "isolation", "unknown")
    if args.json:
        print(json.dumps({**chain.summary(), "sandbox_isolation": isolation}, indent=2))
        return 0 if chain.cxx else 1
    for name, found, hint in _checks(chain):
        print(f"{'ok ' if found else '-- '} {name}: {found or 'missing: ' + hint}")
    print(f"ok  sandbox isolation: {isolation}")
    if chain.kokkos and not chain.kokkos.has_openmp:
        print(
            "note: Kokkos has no OpenMP backend, so Kokkos ports run serially; "
            "bash .ci/install builds one into .venv/opt/kokkos"
        )
    return 0 if chain.cxx else 1
