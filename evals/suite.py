"""The suite format: a problem is a folder, a suite is a folder of problems.

A problem folder holds
- ``problem.toml``: name, type, function, description, programming models, task kinds,
  validation sizes, timing size, tolerances (see :class:`Problem`);
- ``serial.cpp``: the reference serial implementation, which is also the source of
  serial -> X translation tasks; ``<model>.cpp`` (e.g. ``openmp.cpp``, ``cuda.cu``) are further
  translation sources;
- ``fortran.f90`` / ``fortran.harness.f90`` (optional): the serial code in Fortran and its
  driver (tools/harness/ellora_harness.f90), the source of Fortran -> OpenMP and Fortran ->
  MPI tasks (ported in Fortran; only when ``--sources`` names ``fortran``);
- ``serial.harness.cpp``: the C++ test driver in the agent's harness convention
  (tools/harness/ellora_harness.hpp, ``#include ELLORA_TARGET``): it makes random inputs of a
  given size and seed, calls the kernel (once to check; warm-up + repeats for the median time)
  and writes the outputs, which the runner compares with the reference's within the
  tolerance. ``ellora-agent`` finds it next to ``serial.cpp`` the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ellora.evals.programming import FORTRAN_TARGETS, MODELS, SOURCE_LANGUAGES, canonical

BUILTIN_SUITE = Path(__file__).parent / "suites" / "builtin"
SOURCE_SUFFIXES = {"serial": ".cpp", "openmp": ".cpp", "mpi": ".cpp", "mpi+openmp": ".cpp",
                   "kokkos": ".cpp", "cuda": ".cu", "fortran": ".f90"}
TASK_KINDS = ("generation", "translation")


@dataclass
class Problem:
    """One problem of a suite, read from its folder."""

    name: str
    type: str
    function: str
    description: str
    folder: str
    models: list[str] = field(default_factory=lambda: list(MODELS))
    kinds: list[str] = field(default_factory=lambda: list(TASK_KINDS))
    check_sizes: list[int] = field(default_factory=lambda: [1, 7, 1000, 4099])
    timing_size: int = 1_000_000
    rel_tolerance: float = 1e-6
    abs_tolerance: float = 1e-9
    lines: list[int] | None = None  # the lines the agent ports; default: the function's body
    driver: str = "harness"  # harness (this format) | pareval (its drivers, evals/pareval.py)
    extra: dict = field(default_factory=dict)  # adapter data (ParEval paths, prompts)

    @property
    def path(self) -> Path:
        return Path(self.folder)

    @property
    def harness(self) -> Path:
        return self.path / "serial.harness.cpp"

    def harness_for(self, source: str | None) -> Path:
        """The driver of tasks from ``source``: the Fortran one for Fortran sources."""
        if source == "fortran":
            return self.path / "fortran.harness.f90"
        return self.harness

    def source(self, model: str = "serial") -> str:
        """The implementation of this problem in ``model`` (serial: the reference)."""
        return self.source_path(model).read_text()

    def source_path(self, model: str) -> Path:
        return self.path / f"{'serial' if model == 'serial' else model.replace('+', '_')}" \
                           f"{SOURCE_SUFFIXES[model]}"

    def translation_sources(self) -> list[str]:
        """Programming models this problem ships an implementation in."""
        if "translations" in self.extra:
            return sorted({pair.split("->")[0] for pair in self.extra["translations"]})
        return [m for m in (*MODELS, *SOURCE_LANGUAGES) if self.source_path(m).is_file()
                and (m not in SOURCE_LANGUAGES or self.harness_for(m).is_file())]

    def translates(self, source: str, target: str) -> bool:
        """Whether a source -> target translation task exists for this problem."""
        if "translations" in self.extra:
            return f"{source}->{target}" in self.extra["translations"]
        if source == "fortran":
            return target in self.models and target in FORTRAN_TARGETS
        return target in self.models and target not in (source, "serial")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Task:
    """What one sample is asked to do: write ``target`` from a description, or translate."""

    problem: str
    kind: str  # generation | translation
    target: str
    source: str | None = None  # the translation's source model

    @property
    def id(self) -> str:
        if self.kind == "generation":
            return f"{self.problem}/generation/{self.target}"
        return f"{self.problem}/translation/{self.source}-{self.target}"


def load_problem(folder: Path) -> Problem:
    """Read one problem folder; ValueError names the folder and what is wrong."""
    meta_path = folder / "problem.toml"
    try:
        meta = tomllib.loads(meta_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read {meta_path}: {error}") from None
    missing = [key for key in ("type", "function", "description") if key not in meta]
    if missing:
        raise ValueError(f"{meta_path} lacks {', '.join(missing)}")
    meta.setdefault("name", folder.name)
    if "models" in meta:
        meta["models"] = [canonical(m) for m in meta["models"]]
    problem = Problem(folder=str(folder.resolve()), **meta)
    for required in (problem.source_path("serial"), problem.harness):
        if not required.is_file():
            raise ValueError(f"problem {problem.name}: {required.name} is missing in {folder}")
    return problem


def load_suite(folder: Path) -> list[Problem]:
    """Every problem folder (one holding problem.toml) under ``folder``, sorted by name."""
    if not folder.is_dir():
        raise ValueError(f"suite folder {folder} does not exist")
    problems = [load_problem(meta.parent) for meta in sorted(folder.glob("*/problem.toml"))]
    if not problems:
        raise ValueError(f"no problems (folders with problem.toml) in {folder}")
    return problems


def suite_tasks(problems: list[Problem], models: list[str], kinds: list[str],
                sources: list[str] | None = None) -> list[Task]:
    """The tasks of a suite for the chosen target models and kinds.

    Translation tasks go from every source a problem ships (or only ``sources``) to every
    chosen target it supports; serial is never a translation target.
    """
    tasks = []
    for problem in problems:
        targets = [m for m in models if m in problem.models]
        for kind in kinds:
            if kind not in problem.kinds:
                continue
            if kind == "generation":
                tasks += [Task(problem.name, kind, target) for target in targets]
                continue
            for source in problem.translation_sources():
                if sources and source not in sources:
                    continue
                if source in SOURCE_LANGUAGES and not sources:
                    continue  # other languages' sources only when asked for by name
                tasks += [Task(problem.name, kind, target, source) for target in models
                          if problem.translates(source, target)]
    return tasks
