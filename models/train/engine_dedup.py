"""De-duplication, leakage checks and splits for the engine data set.

Code is compared as *normalized tokens*: comments and preprocessor lines dropped, each
identifier that is not a keyword, type or ``std::`` name replaced by its order of first
appearance (``y[i] += a * x[i]`` and ``out[k] += s * in[k]`` are the same text). Exact
duplicates share the SHA-256 of that text. Near duplicates share many 5-token shingles:
MinHash signatures with banded LSH propose pairs, the exact Jaccard decides. Leakage is
measured against reference code (ParEval's prompts and baselines, the built-in suite, the
examples) with both Jaccard and containment (the share of a kernel's shingles found in one
reference), since a short kernel can sit inside a long reference. Splits are by source
file: every kernel of a file (and every variation of it) lands in the same split.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SHINGLE = 5
PERMUTATIONS = 64
BANDS = 16
_TOKEN = re.compile(r"[A-Za-z_]\w*(?:::\w+)*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?[fFlLuU]*|"
                    r"\.\d+|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|\S")
KEYWORDS = {
    "for", "if", "else", "while", "do", "return", "break", "continue", "const", "static",
    "void", "int", "double", "float", "long", "short", "char", "bool", "unsigned", "signed",
    "auto", "struct", "sizeof", "true", "false", "switch", "case", "default", "size_t",
    "std", "vector", "inline", "template", "typename", "using", "namespace", "new", "delete",
    "omp", "pragma", "include", "Kokkos", "MPI", "KOKKOS_LAMBDA", "nullptr", "NULL",
}
_MASK = (1 << 61) - 1


def code_tokens(source: str) -> list[str]:
    """Tokens of ``source`` without comments and preprocessor lines."""
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.DOTALL)
    source = re.sub(r"//[^\n]*", " ", source)
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    return _TOKEN.findall("\n".join(lines))


def normalized_tokens(source: str) -> list[str]:
    """Tokens with identifiers renamed by first appearance (keywords, types, ``std::``
    names and numbers kept)."""
    names: dict[str, str] = {}
    out = []
    for token in code_tokens(source):
        if (token[0].isalpha() or token[0] == "_") and token not in KEYWORDS and \
                "::" not in token:
            token = names.setdefault(token, f"v{len(names)}")
        out.append(token)
    return out


def exact_key(source: str) -> str:
    """SHA-256 of the normalized token text (equal for renamed copies)."""
    return hashlib.sha256(" ".join(normalized_tokens(source)).encode()).hexdigest()


def shingles(source: str, size: int = SHINGLE) -> set[int]:
    """Hashes of the normalized token ``size``-grams (the whole text when shorter)."""
    tokens = normalized_tokens(source)
    grams = [" ".join(tokens[i:i + size]) for i in range(max(1, len(tokens) - size + 1))]
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
            for g in grams}


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def containment(a: set[int], b: set[int]) -> float:
    """The share of ``a``'s shingles found in ``b``."""
    return len(a & b) / len(a) if a else 0.0


def _coefficients(count: int) -> list[tuple[int, int]]:
    out, seed = [], 0x9E3779B97F4A7C15
    for index in range(count):
        digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=16).digest()
        out.append((int.from_bytes(digest[:8], "little") | 1, int.from_bytes(digest[8:], "little")))
    return out


_COEFFICIENTS = _coefficients(PERMUTATIONS)


def minhash(items: set[int]) -> tuple[int, ...]:
    """A MinHash signature of ``items`` (``PERMUTATIONS`` universal hash functions)."""
    if not items:
        return (0,) * PERMUTATIONS
    return tuple(min(((a * x + b) & _MASK) for x in items) for a, b in _COEFFICIENTS)


@dataclass
class DedupResult:
    """Indices kept and, for each dropped one, the index it duplicates and why."""

    kept: list[int] = field(default_factory=list)
    exact: dict[int, int] = field(default_factory=dict)
    near: dict[int, tuple[int, float]] = field(default_factory=dict)


def deduplicate(sources: list[str], threshold: float = 0.8) -> DedupResult:
    """Keep the first of every group of exact or near duplicates (Jaccard of normalized
    5-shingles >= ``threshold``; LSH proposes the pairs)."""
    result = DedupResult()
    first_of: dict[str, int] = {}
    sets: dict[int, set[int]] = {}
    buckets: dict[tuple, list[int]] = {}
    rows = PERMUTATIONS // BANDS
    for index, source in enumerate(sources):
        key = exact_key(source)
        if key in first_of:
            result.exact[index] = first_of[key]
            continue
        first_of[key] = index
        items = shingles(source)
        signature = minhash(items)
        bands = [(band, signature[band * rows:(band + 1) * rows]) for band in range(BANDS)]
        candidates = {other for band in bands for other in buckets.get(band, [])}
        best = max(((jaccard(items, sets[o]), o) for o in candidates), default=(0.0, -1))
        if best[0] >= threshold:
            result.near[index] = (best[1], best[0])
            continue
        sets[index] = items
        for band in bands:
            buckets.setdefault(band, []).append(index)
        result.kept.append(index)
    return result


@dataclass
class Reference:
    """A piece of evaluation code the training data must not resemble."""

    origin: str  # "pareval", "builtin", "examples"
    name: str
    shingles: set[int]


def reference_texts(pareval: Path | None, repo: Path) -> list[tuple[str, str, str]]:
    """(origin, name, code) for ParEval's prompts and baselines, the built-in suite's
    sources and the examples."""
    found: list[tuple[str, str, str]] = []
    if pareval is not None and Path(pareval).is_dir():
        root = Path(pareval)
        for prompts in sorted((root / "prompts").glob("*.json")):
            for entry in json.loads(prompts.read_text()):
                for key in ("prompt", "translation_prompt", "translation_src_example"):
                    if entry.get(key):
                        found.append(("pareval", f"{entry['name']}:{key}", entry[key]))
        for baseline in sorted((root / "drivers" / "cpp" / "benchmarks").glob("*/*/baseline.hpp")):
            found.append(("pareval", baseline.parent.name + ":baseline", baseline.read_text()))
    for path in sorted((repo / "evals" / "suites" / "builtin").glob("*/*.cpp")):
        found.append(("builtin", f"{path.parent.name}/{path.name}", path.read_text()))
    for path in sorted((repo / "examples").glob("*.cpp")):
        found.append(("examples", path.name, path.read_text()))
    return found


def load_references(pareval: Path | None, repo: Path) -> list[Reference]:
    """The evaluation code as shingle sets (one per prompt, baseline or file)."""
    return [Reference(origin, name, shingles(code))
            for origin, name, code in reference_texts(pareval, repo)]


@dataclass
class LeakHit:
    """The closest reference to a kernel and how close it is."""

    origin: str
    name: str
    jaccard: float
    containment: float


def closest_reference(items: set[int], references: Iterable[Reference]) -> LeakHit | None:
    """The reference with the highest containment of ``items`` (ties: Jaccard)."""
    best = None
    for ref in references:
        shared = len(items & ref.shingles)
        if not shared:
            continue
        hit = LeakHit(ref.origin, ref.name, shared / len(items | ref.shingles),
                      shared / len(items))
        if best is None or (hit.containment, hit.jaccard) > (best.containment, best.jaccard):
            best = hit
    return best


def leaks(hit: LeakHit | None, jaccard_max: float = 0.5, containment_max: float = 0.6) -> bool:
    """Whether a kernel is too close to evaluation code to train on."""
    return hit is not None and (hit.jaccard >= jaccard_max or hit.containment >= containment_max)


def split_of(key: str, validation: float = 0.05, test: float = 0.05) -> str:
    """``train``, ``validation`` or ``test`` for a source file, by a stable hash of ``key``."""
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") / 2 ** 64
    if value < test:
        return "test"
    if value < test + validation:
        return "validation"
    return "train"
