"""pass@k, build@k, speedup_n@k and efficiency_n@k against hand-computed cases."""

from itertools import combinations
from math import isclose

import pytest
from ellora.evals import metrics


def brute_force_best_of_k(values, k):
    subsets = list(combinations(values, k))
    return sum(max(s) for s in subsets) / len(subsets)


def test_pass_at_k_hand_computed():
    # N=5, c=2: pass@1 = 2/5; pass@2 = 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert isclose(metrics.pass_at_k(5, 2, 1), 0.4)
    assert isclose(metrics.pass_at_k(5, 2, 2), 0.7)
    assert metrics.pass_at_k(5, 0, 3) == 0.0
    assert metrics.pass_at_k(5, 3, 3) == 1.0  # fewer than k failures: always one success


def test_build_at_k_is_pass_at_k_on_builds():
    assert isclose(metrics.build_at_k(4, 1, 2), 1 - 3 / 6)


def test_speedup_at_1_is_the_mean_with_failures_counted_as_zero():
    assert isclose(metrics.speedup_at_k([0.0, 1.0, 2.0, 4.0], 1), 7 / 4)


def test_speedup_at_2_is_the_expected_best_of_two():
    # pairs of [0,1,2,4]: max = 1,2,4,2,4,4 -> 17/6
    assert isclose(metrics.speedup_at_k([4.0, 0.0, 2.0, 1.0], 2), 17 / 6)


def test_speedup_at_k_matches_brute_force_for_every_k():
    values = [0.0, 3.5, 0.0, 1.2, 2.0, 0.7]
    for k in range(1, len(values) + 1):
        assert isclose(metrics.speedup_at_k(values, k), brute_force_best_of_k(values, k))


def test_sorting_ascending_runtimes_would_give_the_worst_not_the_best():
    # ParEval sorts runtimes ascending; that weights the slowest sample most.
    speedups = [1.0, 2.0, 4.0]
    runtimes_ascending = sorted(1 / s for s in speedups)
    wrong = sum((j - 1) / 3 * (1 / t) for j, t in enumerate(runtimes_ascending, start=1))
    assert isclose(wrong, (0 * 4 + 1 * 2 + 2 * 1) / 3)
    assert isclose(metrics.speedup_at_k(speedups, 2), (2 + 4 + 4) / 3)


def test_efficiency_and_max_variants():
    assert isclose(metrics.efficiency_at_k([2.0, 0.0], 2, 1), 0.5)
    per_sample = [{1: 1.0, 2: 1.8}, {1: 0.9, 4: 2.0}, {}]
    # speedup_max per sample: 1.8, 2.0, 0 -> @1 = 3.8/3; @2 = (1.8 + 2 + 2) / 3
    assert isclose(metrics.speedup_max_at_k(per_sample, 1), 3.8 / 3)
    assert isclose(metrics.speedup_max_at_k(per_sample, 2), 5.8 / 3)
    # efficiency_max per sample: max(1.0, 0.9) = 1.0, max(0.9, 0.5) = 0.9, 0
    assert isclose(metrics.efficiency_max_at_k(per_sample, 1), 1.9 / 3)


def test_sample_speedup_counts_failures_as_zero():
    assert metrics.sample_speedup(2.0, 1.0, True) == 2.0
    assert metrics.sample_speedup(2.0, 1.0, False) == 0.0
    assert metrics.sample_speedup(2.0, None, True) == 0.0


def test_bad_k_is_rejected():
    with pytest.raises(ValueError):
        metrics.pass_at_k(2, 1, 3)
    with pytest.raises(ValueError):
        metrics.speedup_at_k([1.0], 0)
    assert metrics.mean_over_problems([]) is None


HISTOGRAM = """#include <array>
#include <vector>
void counts(std::vector<int> const& image, std::array<long, 256>& bins) {
  #pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < image.size(); ++i) { UPDATE }
}"""


def test_a_race_that_passed_validation_is_not_a_race_free_pass():
    from ellora.evals.report import group_metrics

    def sample(problem, code, source="serial"):
        return {"problem": problem, "target": "openmp", "source": source, "kind": "translation",
                "built": True, "valid": True, "uses_model": True, "resources": [], "code": code}

    racy = sample("hist", HISTOGRAM.replace("UPDATE", "bins[image[i]]++;"))
    atomic = sample("hist", HISTOGRAM.replace("UPDATE", "\n#pragma omp atomic\n bins[image[i]]++;"))
    out = group_metrics([racy, atomic], [1])
    assert out["parallel_pass@1"] == 1.0 and out["race_free_pass@1"] == 0.5
    fortran = sample("axpy", "!$omp parallel do\n", source="fortran")
    assert "race_free_pass@1" not in group_metrics([fortran], [1])  # the check reads C/C++ only
