"""``ellora train dataset --from-engine``: a fine-tuning set made of verified ports.

Pipeline (each step counted in ``report.json``):

1. sources: E4S libraries' C/C++ files from Debian source packages
   (:mod:`.engine_sources`), or folders given with ``--sources``;
2. kernels: every outermost counted loop as a free-standing function
   (:mod:`.engine_extract`), syntax-checked with the C++ compiler;
3. de-duplication (exact and near, :mod:`.engine_dedup`) and the leakage check against
   ParEval, the built-in suite and the examples;
4. variations (:mod:`.engine_variants`), each checked for leakage again;
5. the engine on each candidate and target (:mod:`.engine_ports`): verified ports and
   refusals are kept, ports that fail or cannot be verified are dropped; a port that runs
   in parallel only after a run-time overlap test is shown in the explanation form only,
   and its kernel is remade with ``__restrict__`` parameters and run right after it, in
   the same budget (the twin gives the code forms: the model learns the loop, not the
   engine's test);
6. examples in the forms the model meets (:mod:`.engine_formats`), split by source file
   into ``train.jsonl``, ``validation.jsonl``, ``test.jsonl``; ``records.jsonl`` keeps every
   outcome with its provenance and licence.

Results are cached in the work folder (``results.jsonl``): a rerun resumes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ellora.models.train.config import EngineDataSettings


@dataclass
class Candidate:
    """A kernel (or a variation of one) and where it came from."""

    id: str
    name: str
    source: str
    how: str
    provenance: dict  # package, version, library, license, file, function, line, end_line

    @property
    def split_key(self) -> str:
        return f"{self.provenance['package']}/{self.provenance['file']}"


@dataclass
class EngineReport:
    """Counts after each step, and of the data written."""

    packages: dict[str, str] = field(default_factory=dict)  # package -> version
    packages_failed: dict[str, str] = field(default_factory=dict)
    files: int = 0
    functions: int = 0
    loops: int = 0
    kernels: int = 0
    extract_reasons: dict[str, int] = field(default_factory=dict)
    syntax_failed: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    leaks: dict[str, int] = field(default_factory=dict)
    leak_examples: list[dict] = field(default_factory=list)
    unique_kernels: int = 0
    specialized_ports: int = 0  # ports also shown with their accumulator a local
    restrict_twins: dict[str, int] = field(default_factory=dict)  # target -> kernels remade
    candidates: int = 0
    candidates_run: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # target:outcome -> n
    dropped_reasons: dict[str, int] = field(default_factory=dict)
    ports_by_pattern: dict[str, int] = field(default_factory=dict)  # target:pattern -> n
    refusals_by_reason: dict[str, int] = field(default_factory=dict)
    examples: dict[str, int] = field(default_factory=dict)  # split:form -> n
    examples_by_target: dict[str, int] = field(default_factory=dict)
    licenses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """A short human-readable summary."""
        out = [(f"files {self.files}, functions {self.functions}, loops {self.loops}, "
                f"kernels {self.kernels} (syntax errors {self.syntax_failed})"),
               (f"exact duplicates {self.exact_duplicates}, near duplicates "
                f"{self.near_duplicates}, leaks removed {sum(self.leaks.values())} "
                f"{dict(self.leaks)}, unique kernels {self.unique_kernels}"),
               (f"candidates {self.candidates} (run {self.candidates_run}); ports also "
                f"shown with the accumulator a local: {self.specialized_ports}")]
        out += [f"  {k}: {v}" for k, v in sorted(self.outcomes.items())]
        out.append("ports by target:pattern")
        out += [f"  {k}: {v}" for k, v in sorted(self.ports_by_pattern.items())]
        out.append("examples by split:form")
        out += [f"  {k}: {v}" for k, v in sorted(self.examples.items())]
        return out


def _hash_share(key: str) -> float:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") / 2 ** 64


def syntax_check(sources: list[str], compiler: str | None = None, batch: int = 150) -> list[bool]:
    """Whether each source compiles (``-fsyntax-only``), checked ``batch`` at a time: each
    kernel in its own namespace, the includes hoisted; the lines of the errors name the
    kernels that fail."""
    compiler = compiler or shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise RuntimeError("no C++ compiler found: install g++ (apt-get install g++)")
    ok = [True] * len(sources)
    for start in range(0, len(sources), batch):
        chunk = list(range(start, min(start + batch, len(sources))))
        failed = _check_chunk(compiler, [(i, sources[i]) for i in chunk])
        for index in failed:
            ok[index] = False
    return ok


def _check_chunk(compiler: str, items: list[tuple[int, str]]) -> set[int]:
    includes, parts, spans, line = set(), [], [], 0
    for index, source in items:
        body = [l for l in source.splitlines() if not l.lstrip().startswith("#include")]
        includes |= {l.strip() for l in source.splitlines() if l.lstrip().startswith("#include")}
        spans.append((index, line, line + len(body) + 2))
        parts.append(f"namespace ellora_k{index} {{\n" + "\n".join(body) + "\n}")
        line += len(body) + 2
    head = sorted(includes)
    offset = len(head)
    text = "\n".join(head + parts) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kernels.cpp"
        path.write_text(text)
        result = subprocess.run([compiler, "-std=c++17", "-fsyntax-only", "-w", "-fmax-errors=0",
                                 str(path)], capture_output=True, text=True, timeout=600,
                                check=False)
    if result.returncode == 0:
        return set()
    failed = set()
    for match in re.finditer(r"kernels\.cpp:(\d+):\d+: error", result.stderr):
        number = int(match.group(1)) - offset - 1
        failed |= {index for index, first, last in spans if first <= number < last}
    if not failed:  # an error not tied to a kernel's lines: check them one by one
        if len(items) == 1:
            return {items[0][0]}
        return set().union(*(_check_chunk(compiler, [item]) for item in items))
    return failed


def collect_kernels(sources: list, report: EngineReport, log) -> list[Candidate]:
    """Kernels of every file of ``sources`` (FetchedPackage-like objects)."""
    from ellora.models.train.engine_extract import ExtractReport, extract_kernels

    extract = ExtractReport()
    found: list[Candidate] = []
    for package in sources:
        files = package.files()
        report.files += len(files)
        for path in files:
            relative = package.relative(path)
            try:
                kernels = extract_kernels(path.read_text(errors="replace"), extract)
            except (RecursionError, ValueError) as error:
                extract.reasons[f"unreadable file ({type(error).__name__})"] += 1
                continue
            for kernel in kernels:
                provenance = {"package": package.package.debian, "version": package.version,
                              "library": package.package.library, "license": package.license,
                              "file": relative, "function": kernel.function,
                              "line": kernel.line, "end_line": kernel.end_line}
                key = f"{package.package.debian}/{relative}:{kernel.line}"
                found.append(Candidate(key, kernel.name, kernel.source, "base", provenance))
        log(f"{package.package.debian}: {len(files)} files, {len(found)} kernels so far")
    report.functions, report.loops = extract.functions, extract.loops
    report.kernels = len(found)
    report.extract_reasons = dict(extract.reasons.most_common())
    return found


def unique_kernels(kernels: list[Candidate], settings: EngineDataSettings, references,
                   report: EngineReport) -> list[Candidate]:
    """Kernels that compile, minus exact and near duplicates and anything close to
    evaluation code."""
    from ellora.models.train.engine_dedup import deduplicate

    compiles = syntax_check([k.source for k in kernels])
    report.syntax_failed = compiles.count(False)
    kernels = [k for k, ok in zip(kernels, compiles) if ok]
    dedup = deduplicate([k.source for k in kernels], settings.near_duplicate)
    report.exact_duplicates, report.near_duplicates = len(dedup.exact), len(dedup.near)
    kept = [kernels[i] for i in dedup.kept if not _leaks(kernels[i].source, kernels[i].id,
                                                          references, settings, report)]
    report.unique_kernels = len(kept)
    return kept


def _leaks(source: str, where: str, references, settings: EngineDataSettings,
           report: EngineReport) -> bool:
    from ellora.models.train.engine_dedup import closest_reference, leaks, shingles

    hit = closest_reference(shingles(source), references)
    if not leaks(hit, settings.leak_jaccard, settings.leak_containment):
        return False
    report.leaks[hit.origin] = report.leaks.get(hit.origin, 0) + 1
    if len(report.leak_examples) < 40:
        report.leak_examples.append({"kernel": where, "reference": f"{hit.origin}:{hit.name}",
                                     "jaccard": round(hit.jaccard, 3),
                                     "containment": round(hit.containment, 3)})
    return True


def with_variants(kernels: list[Candidate], settings: EngineDataSettings, references,
                  report: EngineReport) -> list[Candidate]:
    """Each kernel and its variations (variations close to evaluation code left out)."""
    from ellora.models.train.engine_extract import Kernel
    from ellora.models.train.engine_variants import variants

    out = []
    for kernel in kernels:
        rng = random.Random(f"{settings.seed}:{kernel.id}")
        base = Kernel(kernel.name, kernel.source, kernel.provenance["function"],
                      kernel.provenance["line"], kernel.provenance["end_line"])
        for variant in variants(base, rng, settings.variants_per_kernel,
                                settings.fold_variants):
            if variant.how != "base" and _leaks(variant.source, f"{kernel.id}:{variant.how}",
                                                references, settings, report):
                continue
            out.append(Candidate(f"{kernel.id}:{variant.how}", variant.name, variant.source,
                                 variant.how, kernel.provenance))
    compiles = syntax_check([c.source for c in out])
    report.syntax_failed += compiles.count(False)
    return [c for c, ok in zip(out, compiles) if ok]


class ResultCache:
    """``results.jsonl`` in the work folder: one engine outcome per (candidate, target)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.done: dict[tuple[str, str], dict] = {}
        self.by_id: dict[str, dict[str, dict]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.done[(row["id"], row["target"])] = row
                    self.by_id.setdefault(row["id"], {})[row["target"]] = row

    def add(self, row: dict) -> None:
        self.done[(row["id"], row["target"])] = row
        self.by_id.setdefault(row["id"], {})[row["target"]] = row
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


def run_order(candidates: list[Candidate], cache: ResultCache,
              first: list[str]) -> list[Candidate]:
    """The order a time budget verifies ``candidates`` in: those an earlier run cached
    (they cost nothing), then those made by a variation step named in ``first``, each group
    in the given (seeded, shuffled) order."""
    wanted = set(first)
    return sorted(candidates, key=lambda c: (c.id not in cache.by_id,
                                             not wanted.intersection(c.how.split("+"))))


def run_engine(candidates: list[Candidate], targets: tuple[str, ...],
               settings: EngineDataSettings, cache: ResultCache, verifier, log,
               twin_of=None) -> list[Candidate]:
    """The engine on each candidate and target, verified ports within the time budget;
    returns the candidates run (all of them, or up to the budget). ``twin_of(candidate)``
    may give a variation to run right after it, for the targets it names."""
    started = time.monotonic()
    done: list[Candidate] = []
    for number, candidate in enumerate(candidates, start=1):
        if settings.time_budget_s and time.monotonic() - started > settings.time_budget_s:
            log(f"time budget reached after {number - 1} candidates")
            return done
        _run_candidate(candidate, targets, settings, cache, verifier)
        done.append(candidate)
        twin, twin_targets = twin_of(candidate) if twin_of is not None else (None, ())
        if twin is not None:
            # its kernel's port was verified (sampled in): so is the twin's
            _run_candidate(twin, twin_targets, settings, cache, verifier, always_verify=True)
            done.append(twin)
        if number % 25 == 0:
            log(f"{number}/{len(candidates)} candidates, {time.monotonic() - started:.0f} s")
    return done


def _run_candidate(candidate: Candidate, targets: tuple[str, ...], settings: EngineDataSettings,
                   cache: ResultCache, verifier, always_verify: bool = False) -> None:
    """The engine on one candidate for ``targets`` (those not cached), its results cached;
    ports are verified for the sampled share of each target, or all when ``always_verify``."""
    from ellora.models.train.engine_ports import port_kernel
    from ellora.tools.synthesis import CannotSynthesize

    harness, reason = None, ""
    for target in targets:
        if (candidate.id, target) in cache.done:
            continue
        verify = always_verify or _hash_share(f"{settings.seed}:{candidate.id}:{target}") < \
            settings.verify_share.get(target, 0.0)
        if verify and harness is None and not reason:
            try:
                harness = verifier.harness(candidate.source, candidate.name)
            except CannotSynthesize as why:
                reason = f"no harness: {why}"
        try:
            result = port_kernel(candidate.source, candidate.name, target,
                                 verifier if verify else None, harness)
        except Exception as error:  # noqa: BLE001 - any engine failure drops the candidate, counted
            cache.add({"id": candidate.id, "target": target, "outcome": "dropped",
                       "reason": f"engine error: {type(error).__name__}: {error}"[:300]})
            continue
        row = {"id": candidate.id, "target": target, **result.to_dict()}
        if result.outcome == "dropped" and result.patterns and not verify:
            row["reason"] = "not verified (sampled out)"
        elif result.outcome == "dropped" and reason and result.patterns:
            row["reason"] = reason[:300]
        cache.add(row)


def restrict_twin(candidate: Candidate, cache: ResultCache, settings: EngineDataSettings,
                  references, report: EngineReport) -> tuple[Candidate | None, tuple]:
    """When the verified port of ``candidate`` runs in parallel only after a run-time overlap
    test: the kernel remade with its pointer and container parameters ``__restrict__``
    (:func:`~ellora.models.train.engine_variants.restricted`), the same loop in the form the
    engine proves without the test, and the targets to run it for; else (None, ())."""
    from ellora.models.train.engine_formats import overlap_checked
    from ellora.models.train.engine_variants import restricted

    targets = tuple(target for (_, target), row in _rows_of(cache, candidate.id)
                    if row.get("outcome") == "port" and overlap_checked(row.get("port", "")))
    if not targets or candidate.how.endswith("+restrict"):
        return None, ()
    source = restricted(candidate.source, candidate.name)
    if source is None or _leaks(source, f"{candidate.id}+restrict", references, settings,
                                report):
        return None, ()
    for target in targets:
        report.restrict_twins[target] = report.restrict_twins.get(target, 0) + 1
    return Candidate(f"{candidate.id}+restrict", candidate.name, source,
                     f"{candidate.how}+restrict", candidate.provenance), targets


def _record(candidate: Candidate, row: dict) -> dict:
    return {"id": candidate.id, "name": candidate.name, "variant": candidate.how,
            "kernel": candidate.source, **candidate.provenance,
            **{k: v for k, v in row.items() if k not in ("id",)}}


def write_examples(candidates: list[Candidate], cache: ResultCache, settings: EngineDataSettings,
                   references, output: Path, report: EngineReport) -> None:
    """``records.jsonl`` (every outcome) and the split files of examples."""
    from ellora.models.train.engine_dedup import split_of
    from ellora.models.train.engine_formats import SPECIALIZED_FORMS, forms_for, render

    output.mkdir(parents=True, exist_ok=True)
    handles = {split: (output / f"{split}.jsonl").open("w", encoding="utf-8")
               for split in ("train", "validation", "test")}
    outcomes, dropped, patterns, refusals = Counter(), Counter(), Counter(), Counter()
    examples, by_target, licenses = Counter(), Counter(), Counter()
    repeats = _pattern_repeats(candidates, cache, settings)
    specials = _specialized_ports(candidates, cache, settings, references, report)
    with (output / "records.jsonl").open("w", encoding="utf-8") as records:
        for candidate in candidates:
            for (cid, target), row in _rows_of(cache, candidate.id):
                record = _record(candidate, row)
                if record["outcome"] == "port" and _leaks(record["port"], f"{cid}:{target}:port",
                                                          references, settings, report):
                    record["outcome"], record["reason"] = "dropped", "port close to eval code"
                outcomes[f"{target}:{record['outcome']}"] += 1
                if record["outcome"] == "dropped":
                    dropped[_reason_group(record.get("reason", ""))] += 1
                elif record["outcome"] == "port":
                    patterns.update(f"{target}:{p}" for p in dict.fromkeys(record["patterns"]))
                else:
                    refusals[f"{target}:{_reason_group(record['reason'])}"] += 1
                split = split_of(candidate.split_key, settings.validation_share,
                                 settings.test_share)
                record["split"] = split
                records.write(json.dumps(record) + "\n")
                if record["outcome"] == "dropped":
                    continue
                times = repeats(record) if split == "train" else 1
                for form, repeat in ((f, k) for f in forms_for(record) for k in range(times)):
                    for rng in _renderings(settings, cid, target, form, repeat):
                        shown = record
                        if form in SPECIALIZED_FORMS and (cid, target) in specials and \
                                rng.random() < settings.specialize_share:
                            shown = specials[(cid, target)]
                        example = render(shown, form, rng, settings.system_share,
                                         settings.reduction_notes)
                        if example is None:
                            continue
                        size = len(example.question) + len(example.context) + len(example.answer)
                        if len(example.answer) > settings.max_answer_chars or \
                                size > settings.max_example_chars:
                            examples[f"{split}:{form}:too long"] += 1
                            continue
                        meta = {"form": form, "target": target, "outcome": record["outcome"],
                                "patterns": record.get("patterns", []), "id": cid,
                                "package": record["package"], "version": record["version"],
                                "file": record["file"], "function": record["function"],
                                "line": record["line"], "license": record["license"],
                                "variant": shown["variant"]}
                        handles[split].write(json.dumps({"question": example.question,
                                                         "context": example.context,
                                                         "answer": example.answer, **meta}) + "\n")
                        examples[f"{split}:{form}"] += 1
                        by_target[f"{target}:{form}"] += 1
                        licenses[record["license"]] += 1
    for handle in handles.values():
        handle.close()
    report.outcomes, report.dropped_reasons = dict(outcomes), dict(dropped.most_common())
    report.ports_by_pattern = dict(patterns.most_common())
    report.refusals_by_reason = dict(refusals.most_common())
    report.examples, report.examples_by_target = dict(examples), dict(by_target)
    report.licenses = dict(licenses)


def _renderings(settings: EngineDataSettings, cid: str, target: str, form: str, repeat: int):
    """The seeded generator of each copy of a record in ``form``: its share (``forms``) is
    the expected number of copies (0.5: half of the records; 1.5: each once, half twice)."""
    share = settings.forms.get(f"{form}:{target}", settings.forms.get(form, 0.0))
    key = f"{settings.seed}:{cid}:{target}:{form}" + (f":{repeat}" if repeat else "")
    copy = 0
    while True:
        rng = random.Random(key + (f"#{copy}" if copy else ""))
        if rng.random() >= share - copy:
            return
        yield rng
        copy += 1


def _specialized_ports(candidates: list[Candidate], cache: ResultCache,
                       settings: EngineDataSettings, references, report: EngineReport) -> dict:
    """(candidate, target) -> the port record with its accumulator a local on both sides
    (:func:`~ellora.models.train.engine_formats.specialized`), for ports where that applies,
    the result compiles and is not close to evaluation code."""
    from ellora.models.train.engine_formats import specialized

    if settings.specialize_share <= 0:
        return {}
    found = {}
    for candidate in candidates:
        for key, row in _rows_of(cache, candidate.id):
            made = specialized(_record(candidate, row))
            if made is not None and not _leaks(made["port"], f"{key[0]}:{key[1]}:specialized",
                                               references, settings, report):
                found[key] = made
    keys = list(found)
    # the port had the same edit as the kernel (a parameter gone, a declaration added), so
    # the kernel compiling says the port does; ports need OpenMP/MPI headers to check alone
    compiles = syntax_check([found[k]["kernel"] for k in keys])
    kept = {k: found[k] for k, ok in zip(keys, compiles) if ok}
    report.specialized_ports = len(kept)
    return kept


def _pattern_repeats(candidates: list[Candidate], cache: ResultCache,
                     settings: EngineDataSettings):
    """How many times to write a record: a port of a rarer pattern (its first pattern,
    per target) more often, so that each pattern nears ``balance_patterns`` of the most
    common one's ports; refusals and every port once when balancing is off."""
    counts: Counter = Counter()
    if settings.balance_patterns > 0:
        for candidate in candidates:
            for (_, target), row in _rows_of(cache, candidate.id):
                record = _record(candidate, row)
                if record["outcome"] == "port" and record.get("patterns"):
                    counts[(target, record["patterns"][0])] += 1
    top = Counter()
    for (target, _), n in counts.items():
        top[target] = max(top[target], n)

    def times(record: dict) -> int:
        key = (record.get("target"), (record.get("patterns") or [None])[0])
        if record["outcome"] != "port" or not counts.get(key):
            return 1
        wanted = settings.balance_patterns * top[key[0]] / counts[key]
        return max(1, min(settings.max_pattern_repeats, round(wanted)))

    return times


def _rows_of(cache: ResultCache, candidate_id: str):
    return [((candidate_id, target), row)
            for target, row in sorted(cache.by_id.get(candidate_id, {}).items())]


def _reason_group(reason: str) -> str:
    """A reason without the names in it, for counting."""
    reason = re.sub(r"\b[A-Za-z_]\w*\[[^\]]*\]", "A[..]", reason)
    reason = re.sub(r"(the scalar|scalar|variable|on) [A-Za-z_]\w*", r"\1 X", reason)
    reason = re.sub(r"\([^)]*\)", "", reason)
    return reason.split(":")[0].strip()[:90] if reason.startswith(("test", "original",
                                                                   "candidate", "no harness")) \
        else reason.strip()[:90]


def build_engine_dataset(output: Path, settings: EngineDataSettings, *,
                         targets: tuple[str, ...] = ("openmp", "kokkos", "mpi"),
                         sources: list | None = None, pareval: Path | None = None,
                         repo: Path | None = None, log=print) -> EngineReport:
    """Build the data set into ``output`` (see the module docstring); ``sources`` are
    FetchedPackage-like objects (default: the Debian source packages)."""
    from ellora.models.train.engine_dedup import load_references
    from ellora.models.train.engine_ports import Verifier
    from ellora.models.train.engine_sources import fetch_packages

    started = time.monotonic()
    report = EngineReport()
    work = Path(settings.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    if sources is None:
        sources, report.packages_failed = fetch_packages(work, log=log)
        if not sources:
            raise RuntimeError("no source package could be fetched: "
                               + "; ".join(f"{k}: {v}" for k, v in report.packages_failed.items()))
    report.packages = {s.package.debian: s.version for s in sources}
    repo = repo or Path(__file__).resolve().parents[2]
    references = load_references(pareval, repo)
    log(f"{len(references)} evaluation references (ParEval: "
        f"{'yes' if pareval else 'not given'}, built-in suite, examples)")
    kernels = unique_kernels(collect_kernels(sources, report, log), settings, references,
                             report)
    candidates = with_variants(kernels, settings, references, report)
    random.Random(settings.seed).shuffle(candidates)
    if settings.max_candidates:
        candidates = candidates[:settings.max_candidates]
    report.candidates = len(candidates)
    log(f"{report.unique_kernels} unique kernels, {len(candidates)} candidates")
    cache = ResultCache(work / "results.jsonl")
    candidates = run_order(candidates, cache, settings.verify_first)
    verifier = Verifier(work / "verify")
    run = run_engine(candidates, targets, settings, cache, verifier, log,
                     twin_of=lambda c: restrict_twin(c, cache, settings, references, report))
    report.candidates_run = sum(not c.how.endswith("+restrict") for c in run)
    log(f"__restrict__ twins of overlap-tested ports: {report.restrict_twins}")
    write_examples(run, cache, settings, references, output, report)
    report.seconds = time.monotonic() - started
    (output / "report.json").write_text(json.dumps(asdict(report), indent=2))
    return report
