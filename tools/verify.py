"""Build original and candidate in the sandbox, test them against each other, time them.

Three ways to establish correctness, strongest first:
- a harness (``<stem>.harness.cpp`` next to the source, or given, or synthesized from the
  function by :mod:`ellora.tools.synthesis` when there is neither): both variants run on the
  same generated inputs of several sizes; outputs (written as doubles) compared with tolerance;
- a whole program (the file has ``main``): both run, stdout compared numerically;
- neither: the candidate is only compiled and the result says correctness was not established.
"""

from __future__ import annotations

import math
import re
import shutil
import statistics
import time
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ellora.sandbox import Limits, Sandbox
from ellora.tools.build_cache import BuildCache
from ellora.tools.diagnostics import Diagnostic, errors_only, parse_diagnostics
from ellora.tools.toolchain import BuildRecipe

HARNESS_HEADER = Path(__file__).parent / "harness" / "ellora_harness.hpp"
_HEADER_SUFFIXES = {".h", ".hh", ".hpp", ".hxx", ".cuh", ".inc", ".inl"}
_MAIN = re.compile(r"\bint\s+main\s*\(")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)")


@dataclass
class BuildOutcome:
    variant: str
    ok: bool
    command: list[str]
    seconds: float
    log: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    cached: bool = False

    def to_dict(self) -> dict:
        data = asdict(self)
        data["log"] = self.log[-4000:]
        return data


@dataclass
class CaseOutcome:
    """One size's comparison; ``failed_variant`` names the build that crashed or hit a limit
    (empty when both ran and only their outputs were compared)."""

    size: int
    passed: bool
    detail: str
    failed_variant: str = ""


@dataclass
class TestOutcome:
    """``status`` is passed, failed or not_established; never a silent pass."""

    status: str
    method: str
    cases: list[CaseOutcome] = field(default_factory=list)
    message: str = ""
    run_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class VerifySpec:
    """What to verify: the source file's original and candidate text, and how to test it."""

    source_name: str
    original: str
    candidate: str
    source_dir: str
    harness: str | None = None

    @property
    def mode(self) -> str:
        if self.harness:
            return "harness"
        if _fortran(self.source_name):
            from ellora.tools.fortran_build import has_main_program

            return "program" if has_main_program(self.original) else "compile-only"
        return "program" if _MAIN.search(self.original) else "compile-only"


C_IN_CXX_FLAGS = ("-Drestrict=__restrict__", "-fpermissive")
"""A C source included by a C++ harness: C99's ``restrict`` in GNU C++ spelling, and C's
implicit conversions (``double *a = malloc(...)``) as warnings."""


def _fortran(file_name: str) -> bool:
    from ellora.tools.fortran_build import is_fortran

    return is_fortran(file_name)


def find_harness(source: Path) -> Path | None:
    """The harness that ships next to a source file, if any (``saxpy.harness.cpp``, and
    ``saxpy.harness.f90`` for Fortran)."""
    if _fortran(source.name):
        from ellora.tools.fortran_build import find_harness as find_fortran_harness

        return find_fortran_harness(source)
    for suffix in (".harness.cpp", ".harness.cc", ".harness.cxx"):
        candidate = source.with_name(source.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def prepare_workspace(sandbox: Sandbox, spec: VerifySpec) -> Path:
    """A fresh workspace holding original, candidate, harness and the harness header."""
    workspace = sandbox.new_workspace("verify-")
    suffix = Path(spec.source_name).suffix or ".cpp"
    (workspace / f"original{suffix}").write_text(spec.original)
    (workspace / f"candidate{suffix}").write_text(spec.candidate)
    shutil.copy(HARNESS_HEADER, workspace / HARNESS_HEADER.name)
    for header in Path(spec.source_dir).glob("*"):  # the user's local headers, for #include ""
        if (
            header.suffix in _HEADER_SUFFIXES
            and header.is_file()
            and header.stat().st_size < 4_000_000
        ):
            shutil.copy(header, workspace / header.name)
    if spec.harness:
        shutil.copy(spec.harness, workspace / "harness.cpp")
    if _fortran(spec.source_name):
        from ellora.tools.fortran_build import stage

        stage(workspace, spec.harness)
    return workspace


def build_variant(
    sandbox: Sandbox,
    workspace: Path,
    spec: VerifySpec,
    variant: str,
    recipe: BuildRecipe,
    limits: Limits,
    cache: BuildCache | None = None,
) -> BuildOutcome:
    """Compile ``original`` or ``candidate`` with ``recipe`` into ``workspace/<variant>``,
    or copy the same build from the content-addressed cache.

    A C file is the user's C: alone or as a program it is built by the C compiler; a
    harness (C++) includes it as C++, so it is first compiled alone as C, and a variant the
    user's C build would reject fails here with the C compiler's errors."""
    from ellora.tools.loops.region import is_c_source

    suffix = Path(spec.source_name).suffix or ".cpp"
    source = f"{variant}{suffix}"
    if _fortran(spec.source_name):
        from ellora.tools.fortran_build import build_command
        from ellora.tools.toolchain import ToolchainMissing

        try:
            command = build_command(recipe, spec.mode, variant, source)
        except ToolchainMissing as missing:
            return BuildOutcome(variant, False, [], 0.0, str(missing))
        return _compile(sandbox, workspace, spec, variant, command, limits, cache)
    if spec.mode != "harness":
        command = _plain_command(spec, source, variant, recipe, spec.mode == "program")
        return _compile(sandbox, workspace, spec, variant, command, limits, cache)
    if is_c_source(spec.source_name) and recipe.for_c() is not None:
        as_c = _compile(sandbox, workspace, spec, variant,
                        _plain_command(spec, source, variant, recipe, False), limits, cache)
        if not as_c.ok:
            return as_c
    command = recipe.compile_command(
        ["harness.cpp"], variant, {"ELLORA_TARGET": f'"{source}"'}, ["."]
    )
    if is_c_source(spec.source_name):  # the harness is C++: it reads the C file as C++
        command[1:1] = C_IN_CXX_FLAGS
    return _compile(sandbox, workspace, spec, variant, command, limits, cache)


def _plain_command(spec: VerifySpec, source: str, variant: str, recipe: BuildRecipe,
                   program: bool) -> list[str]:
    """The command that builds the variant as a program, or compiles it alone (``-c``)."""
    recipe = _language_recipe(spec, recipe)
    if program:
        return recipe.compile_command([source], variant, None, ["."])
    command = recipe.compile_command([source], f"{variant}.o", None, ["."])
    command.insert(command.index(source), "-c")
    return [part for part in command if not part.startswith(("-l", "-L", "-Wl,"))]


def _compile(sandbox: Sandbox, workspace: Path, spec: VerifySpec, variant: str,
             command: list[str], limits: Limits, cache: BuildCache | None) -> BuildOutcome:
    """Run one compile command in the sandbox, or copy its output from the cache."""
    suffix = Path(spec.source_name).suffix or ".cpp"
    source = f"{variant}{suffix}"
    output = command[command.index("-o") + 1]
    cache = cache if cache is not None else BuildCache()
    started = time.perf_counter()
    other = "candidate" if variant == "original" else "original"
    key = cache.key(command, workspace, output, frozenset({f"{other}{suffix}"}))
    cached = cache.lookup(key, workspace, output)
    if cached is not None:
        ok, log, seconds = cached["ok"], cached["log"], time.perf_counter() - started
    else:
        result = sandbox.run(command, workspace, limits)
        ok, log, seconds = result.ok, result.stderr + result.stdout, result.wall_s
        if result.limit_hit:
            log += f"\n[sandbox] build stopped: {result.limit_hit} limit"
        else:
            cache.store(key, workspace, output, ok, log)
    diagnostics = parse_diagnostics(log)
    for d in diagnostics:  # name the user's file, not the workspace copy
        if d.file.endswith(source):
            object.__setattr__(d, "file", spec.source_name)
    return BuildOutcome(variant, ok, command, seconds, log, diagnostics, cached=cached is not None)


def _language_recipe(spec: VerifySpec, recipe: BuildRecipe) -> BuildRecipe:
    """A C file (a whole program, or compiled alone) is built as C with the C compiler beside
    the recipe's; C++ (and a C file ported to Kokkos or CUDA) with the recipe as it is."""
    from ellora.tools.loops.region import is_c_source

    if is_c_source(spec.source_name):
        return recipe.for_c() or recipe
    return recipe


def _run_variant(sandbox, workspace, recipe, variant, args, count, limits):
    """Run a built variant with ``count`` threads, or ``count`` MPI ranks of 1 thread each."""
    if recipe.launcher:
        env = {"OMP_NUM_THREADS": "1", "OMP_PROC_BIND": "false"}
        command = [*recipe.launcher, "-np", str(count), f"./{variant}", *args]
    else:
        env = {"OMP_NUM_THREADS": str(count), "OMP_PROC_BIND": "false"}
        command = [f"./{variant}", *args]
    return sandbox.run(command, workspace, limits, env=env)


def _close(a: float, b: float, rel: float, abs_: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def compare_values(expected: list[float], actual: list[float], rel: float, abs_: float) -> str:
    """Empty string when equal within tolerance, else what differs first."""
    if len(expected) != len(actual):
        return f"{len(actual)} output values, expected {len(expected)}"
    for index, (a, b) in enumerate(zip(expected, actual)):
        if not _close(a, b, rel, abs_):
            return f"value {index}: got {b!r}, expected {a!r}"
    return ""


def _read_doubles(path: Path) -> list[float]:
    values = array("d")
    values.frombytes(path.read_bytes())
    return values.tolist()


def _check_case(sandbox, workspace, recipes, size, count, limits, reference=None, draw=0):
    """Run one case (inputs of ``size`` elements, the ``draw``-th random draw of them);
    returns (outputs per variant or None, error text, seconds); the error text starts with
    the variant that failed."""
    outputs, seconds = {}, 0.0
    variants = ("candidate",) if reference is not None else ("original", "candidate")
    for variant in variants:
        args = [
            "--size",
            str(size),
            "--seed",
            str(1000 * (draw + 1) + size),
            "--mode",
            "check",
            "--output",
            f"{variant}.out",
        ]
        result = _run_variant(
            sandbox,
            workspace,
            recipes[variant],
            variant,
            args,
            count if variant == "candidate" else 1,
            limits,
        )
        seconds += result.wall_s
        if not result.ok:
            reason = result.limit_hit or f"exit {result.exit_code}"
            return None, f"{variant} failed ({reason}): {result.stderr.strip()[-300:]}", seconds
        outputs[variant] = _read_doubles(workspace / f"{variant}.out")
    if reference is not None:
        outputs["original"] = reference
    return outputs, "", seconds


def differential_test(
    sandbox: Sandbox,
    workspace: Path,
    spec: VerifySpec,
    recipes: dict[str, BuildRecipe],
    sizes: list[int],
    threads: int,
    rel: float,
    abs_: float,
    limits: Limits,
    stress_counts: tuple[int, ...] = (),
    stress_repeats: int = 0,
    draws: int = 1,
) -> TestOutcome:
    """Run original and candidate on the same inputs and compare their outputs, ``draws``
    random inputs per size (a wrong result that shows only for some values of a few
    elements, the first one or a rare one, passes one draw by luck far more often than
    three); then rerun the largest case at other thread/rank counts (``stress_counts``) to
    expose races that a single lucky run hides."""
    if spec.mode == "compile-only":
        return TestOutcome(
            "not_established",
            "compile-only",
            message="no harness and no main(): the candidate compiles, but its "
            "results were not compared (add <name>.harness.cpp)",
        )
    if spec.mode == "program":
        return _compare_programs(sandbox, workspace, recipes, threads, rel, abs_, limits)
    cases, run_seconds, reference = [], 0.0, None
    for size in sizes:
        for draw in range(draws):
            outputs, error, seconds = _check_case(sandbox, workspace, recipes, size, threads,
                                                  limits, draw=draw)
            run_seconds += seconds
            if outputs is None:
                cases.append(CaseOutcome(size, False, error, error.split(" ", 1)[0]))
                continue
            problem = compare_values(outputs["original"], outputs["candidate"], rel, abs_)
            drawn = f" (draw {draw + 1})" if draws > 1 else ""
            cases.append(CaseOutcome(size, not problem, (problem or f"{len(outputs['original'])}"
                                                         " values match") + drawn))
            if size == max(sizes) and draw == 0:
                reference = outputs["original"]
    method = f"harness, {len(sizes)} sizes" + (f" x {draws} draws" if draws > 1 else "") + \
        f", {threads} threads"
    if reference is not None and all(c.passed for c in cases) and stress_repeats:
        for count in stress_counts:
            for repeat in range(stress_repeats):
                outputs, error, seconds = _check_case(
                    sandbox, workspace, recipes, max(sizes), count, limits, reference
                )
                run_seconds += seconds
                problem = error or compare_values(reference, outputs["candidate"], rel, abs_)
                cases.append(
                    CaseOutcome(
                        max(sizes),
                        not problem,
                        (
                            f"race check at {count} threads/ranks, run {repeat + 1}: "
                            + (problem or "values match")
                        ),
                        "candidate" if error else "",
                    )
                )
        method += f"; race check: {stress_repeats} reruns at {list(stress_counts)} threads/ranks"
    status = "passed" if all(c.passed for c in cases) else "failed"
    return TestOutcome(status, method, cases, run_seconds=run_seconds)


def _compare_programs(sandbox, workspace, recipes, threads, rel, abs_, limits) -> TestOutcome:
    runs = {
        v: _run_variant(
            sandbox, workspace, recipes[v], v, [], threads if v == "candidate" else 1, limits
        )
        for v in ("original", "candidate")
    }
    failed = [v for v, r in runs.items() if not r.ok]
    if failed:
        detail = "; ".join(
            f"{v}: {runs[v].limit_hit or 'exit ' + str(runs[v].exit_code)}" for v in failed
        )
        return TestOutcome("failed", "program output", [CaseOutcome(0, False, detail)])
    seconds = sum(r.wall_s for r in runs.values())
    expected, actual = (runs[v].stdout for v in ("original", "candidate"))
    text_a, text_b = _NUMBER.sub("#", expected), _NUMBER.sub("#", actual)
    problem = "" if text_a == text_b else "the program's text output differs"
    if not problem:
        numbers = [[float(x) for x in _NUMBER.findall(s)] for s in (expected, actual)]
        problem = compare_values(numbers[0], numbers[1], rel, abs_)
    return TestOutcome(
        "passed" if not problem else "failed",
        "program output",
        [CaseOutcome(0, not problem, problem or "outputs match")],
        run_seconds=seconds,
    )


def time_variants(
    sandbox: Sandbox,
    workspace: Path,
    spec: VerifySpec,
    recipes: dict[str, BuildRecipe],
    threads: list[int],
    size: int,
    repeats: int,
    rounds: int,
    limits: Limits,
    original_counts: list[int] | None = None,
    max_rounds: int | None = None,
) -> dict[str, dict[int, float]]:
    """Median seconds per variant and thread count, rounds interleaved to share the noise.
    With ``max_rounds``, rounds go on (up to that many) while the speedups of the rounds at
    the largest thread count differ by more than ROUNDS_AGREE: a port whose speedup is a ratio
    of two similar times (an MPI gather as large as the loop's traffic) is otherwise judged
    on three draws that can land either side of 1."""
    samples: dict[str, dict[int, list[float]]] = {
        "original": {p: [] for p in original_counts or [1]},
        "candidate": {p: [] for p in threads},
    }
    args = ["--size", str(size), "--seed", "7", "--mode", "time", "--repeats", str(repeats)]
    if spec.mode == "program":
        args = []
    done = 0
    while done < rounds or (done < (max_rounds or 0) and not _rounds_agree(samples)):
        for variant, per_thread in samples.items():
            for count in per_thread:
                result = _run_variant(
                    sandbox, workspace, recipes[variant], variant, args, count, limits
                )
                if not result.ok:
                    raise TimingFailed(
                        f"{variant} at {count} threads: "
                        f"{result.limit_hit or 'exit ' + str(result.exit_code)}"
                    )
                per_thread[count].append(_parse_seconds(result.stdout, result.wall_s))
        done += 1
    return {v: {p: statistics.median(t) for p, t in per.items()} for v, per in samples.items()}


ROUNDS_AGREE = 1.2  # the largest round speedup over the smallest, at the top thread count


def _rounds_agree(samples: dict[str, dict[int, list[float]]]) -> bool:
    original = samples["original"][min(samples["original"])]
    candidate = samples["candidate"][max(samples["candidate"])]
    ratios = [o / c for o, c in zip(original, candidate, strict=False) if c > 0]
    return not ratios or max(ratios) <= ROUNDS_AGREE * min(ratios)


def time_variants_fitting(
    sandbox: Sandbox,
    workspace: Path,
    spec: VerifySpec,
    recipes: dict[str, BuildRecipe],
    threads: list[int],
    size: int,
    smallest: int,
    repeats: int,
    rounds: int,
    limits: Limits,
    max_rounds: int | None = None,
) -> tuple[dict[str, dict[int, float]], int, str]:
    """:func:`time_variants` at ``size``, or, when a run fails there, at a quarter of it
    (never below ``smallest``) until one fits: the size was grown on the original alone, and
    the candidate's runtime (an MPI launcher, per-thread copies) may not fit the limits at
    it. Returns the medians, the size timed and a note saying why it shrank (or "");
    TimingFailed when even ``smallest`` fails (or a program, which has no size)."""
    note = ""
    while True:
        try:
            medians = time_variants(sandbox, workspace, spec, recipes, threads, size, repeats,
                                    rounds, limits, max_rounds=max_rounds)
            return medians, size, note
        except TimingFailed as failure:
            smaller = max(smallest, size // 4)
            if spec.mode != "harness" or smaller >= size:
                raise
            note = f"timed at size {smaller}: at {size} a timing run failed ({failure})"
            size = smaller


def calibrate_timing_size(
    sandbox: Sandbox,
    workspace: Path,
    recipe: BuildRecipe,
    size: int,
    limits: Limits,
    min_seconds: float,
    max_growth: int,
) -> tuple[int, float | None]:
    """The ``--size`` to time at: ``size``, grown while the original's call takes under
    ``min_seconds`` (at most ``max_growth`` times ``size``), so that timings are not dominated
    by start-up and per-region overheads. A run that fails (a limit, an input domain the
    harness refuses at that size) ends the growth at the last size that ran. Returns the size
    and the original's seconds per call there (None when even ``size`` did not run)."""

    def seconds_at(candidate_size: int) -> float | None:
        args = ["--size", str(candidate_size), "--seed", "7", "--mode", "time", "--repeats", "1"]
        result = _run_variant(sandbox, workspace, recipe, "original", args, 1, limits)
        return _parse_seconds(result.stdout, result.wall_s) if result.ok else None

    seconds = seconds_at(size)
    if seconds is None:
        return size, None
    chosen, ceiling = size, size * max(1, max_growth)
    while seconds < min_seconds and chosen < ceiling:
        factor = min(16, max(2, math.ceil(1.5 * min_seconds / max(seconds, 1e-6))))
        bigger = min(ceiling, chosen * factor)
        grown = seconds_at(bigger)
        if grown is None or grown <= seconds:  # failed, or the size no longer adds work
            break
        chosen, seconds = bigger, grown
    return chosen, seconds


class TimingFailed(RuntimeError):
    """A timing run crashed or hit a limit."""


def _parse_seconds(stdout: str, wall_s: float) -> float:
    match = re.search(r"ellora-time:\s*(\S+)", stdout)
    return float(match.group(1)) if match else wall_s


def first_errors(outcome: BuildOutcome, limit: int = 12) -> list[Diagnostic]:
    return errors_only(outcome.diagnostics)[:limit]


_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv"}


def copy_project(source_dir: Path, destination: Path, max_bytes: int = 512 * 1024 * 1024) -> None:
    """Copy the user's project (not its VCS metadata) into the sandbox workspace."""
    total = 0
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if any(part in _SKIP_DIRS for part in relative.parts) or path.is_symlink():
            continue
        target = destination / relative
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            total += path.stat().st_size
            if total > max_bytes:
                raise ValueError(
                    f"the project {source_dir} is over {max_bytes >> 20} MiB; "
                    "give a smaller --project directory"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def run_user_tests(
    sandbox: Sandbox,
    workspace: Path,
    project_dir: Path,
    source_file: Path,
    candidate: str,
    command: str,
    limits: Limits,
) -> TestOutcome:
    """Run the user's own test command on a copy of their project with the candidate in it."""
    copy = workspace / "project"
    copy_project(project_dir, copy)
    (copy / source_file.resolve().relative_to(project_dir.resolve())).write_text(candidate)
    result = sandbox.run(["sh", "-c", f"cd project && {command}"], workspace, limits)
    detail = (result.stdout + result.stderr).strip()[-1500:]
    passed = result.ok
    reason = "" if passed else (result.limit_hit or f"exit {result.exit_code}")
    return TestOutcome(
        "passed" if passed else "failed",
        f"your test command: {command}",
        [CaseOutcome(0, passed, detail if passed else f"{reason}: {detail}")],
        run_seconds=result.wall_s,
    )
