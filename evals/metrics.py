"""ParEval's metrics with exact, unbiased estimators over N samples per problem.

- pass@k  = 1 - C(N-c, k) / C(N, k), c = samples that built and validated;
- build@k = the same with c = samples that built;
- speedup_n@k = sum_j C(j-1, k-1) / C(N, k) * T*/T_j, samples sorted by speedup ascending
  (j = 1..N), which is the expected best speedup among k samples drawn without replacement.
  A sample that failed to build or validate counts with speedup 0; it does not vanish;
- efficiency_n@k = speedup_n@k / n;
- the ``_max`` variants first take, per sample, the best over the measured resource counts.

Each function takes the samples of ONE problem; :func:`mean_over_problems` averages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import comb


def pass_at_k(n_samples: int, n_correct: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n is correct."""
    _check(n_samples, k)
    if not 0 <= n_correct <= n_samples:
        raise ValueError(f"correct samples {n_correct} outside 0..{n_samples}")
    if n_samples - n_correct < k:
        return 1.0
    return 1.0 - comb(n_samples - n_correct, k) / comb(n_samples, k)


def build_at_k(n_samples: int, n_built: int, k: int) -> float:
    """Probability that at least one of k samples builds (pass@k on 'did it build')."""
    return pass_at_k(n_samples, n_built, k)


def expected_best_of_k(values: Sequence[float], k: int) -> float:
    """Expected maximum of k values drawn without replacement from ``values``.

    Sorted ascending, value j (1-based) is the maximum of exactly C(j-1, k-1) of the C(N, k)
    subsets, so the expectation is sum_j C(j-1, k-1) / C(N, k) * v_j.
    """
    _check(len(values), k)
    ordered = sorted(values)
    total = comb(len(ordered), k)
    return sum(comb(j - 1, k - 1) * value for j, value in enumerate(ordered, start=1)) / total


def sample_speedup(baseline_s: float | None, time_s: float | None, passed: bool) -> float:
    """T*/T for a passing sample with both times; 0 for anything else."""
    if not passed or not baseline_s or not time_s or time_s <= 0:
        return 0.0
    return baseline_s / time_s


def speedup_at_k(speedups: Sequence[float], k: int) -> float:
    """speedup_n@k from per-sample speedups at one resource count n (failed samples: 0)."""
    return expected_best_of_k(speedups, k)


def efficiency_at_k(speedups: Sequence[float], n: int, k: int) -> float:
    """efficiency_n@k = speedup_n@k / n."""
    if n <= 0:
        raise ValueError(f"resource count must be positive, got {n}")
    return speedup_at_k(speedups, k) / n


def speedup_max_at_k(per_sample: Sequence[dict[int, float]], k: int) -> float:
    """speedup_max@k: per sample the best speedup over its resource counts, then best of k."""
    return expected_best_of_k([max(s.values(), default=0.0) for s in per_sample], k)


def efficiency_max_at_k(per_sample: Sequence[dict[int, float]], k: int) -> float:
    """efficiency_max@k: per sample the best speedup/n over its resource counts, then best of k."""
    best = [max((v / n for n, v in s.items()), default=0.0) for s in per_sample]
    return expected_best_of_k(best, k)


def mean_over_problems(values: Iterable[float]) -> float | None:
    """The mean over problems, or None when there are none."""
    values = list(values)
    return sum(values) / len(values) if values else None


def _check(n_samples: int, k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if n_samples < k:
        raise ValueError(f"k={k} needs at least {k} samples, got {n_samples}")
