"""The timing size grows until the original's call takes long enough to time, and stops at a
size the harness refuses or at the growth limit (a real harness-protocol program in the real
sandbox)."""

import pytest
from ellora.agents.services import create_task_sandbox
from ellora.agents.settings import load_settings
from ellora.sandbox import Limits
from ellora.tools.toolchain import BuildRecipe
from ellora.tools.verify import calibrate_timing_size

# the harness protocol's time mode: work proportional to --size; sizes above $REFUSE_ABOVE
# are an input domain the harness cannot make (exit 3, as synthesized harnesses do)
PROGRAM = r"""
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
int main(int argc, char** argv) {
  long long size = 0, refuse = -1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--size")) size = std::atoll(argv[i + 1]);
  }
  if (const char* limit = std::getenv("REFUSE_ABOVE")) refuse = std::atoll(limit);
  if (refuse >= 0 && size > refuse) return 3;
  auto start = std::chrono::steady_clock::now();
  volatile double s = 0;
  for (long long i = 0; i < size; ++i) s = s + i * 0.5;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("ellora-time: %.9f\n", seconds);
}
"""


@pytest.fixture
def workspace():
    sandbox = create_task_sandbox(load_settings())
    folder = sandbox.new_workspace()
    (folder / "p.cpp").write_text(PROGRAM)
    built = sandbox.run(["g++", "-O1", "p.cpp", "-o", "original"], folder, Limits())
    assert built.ok, built.stderr
    yield sandbox, folder
    sandbox.discard_workspace(folder)


RECIPE = BuildRecipe("serial", "g++", ())


def test_a_size_too_small_to_time_is_grown_until_the_call_takes_long_enough(workspace):
    sandbox, folder = workspace
    size, seconds = calibrate_timing_size(sandbox, folder, RECIPE, 1000, Limits(), 0.02, 1 << 20)
    assert size > 1000 and seconds is not None and seconds >= 0.02
    # already long enough (ten times the minimum, so a busy machine cannot flip it): kept
    again, _ = calibrate_timing_size(sandbox, folder, RECIPE, size, Limits(), seconds / 10,
                                     1 << 20)
    assert again == size
    # no calibration asked for (growth 1): the size stays
    assert calibrate_timing_size(sandbox, folder, RECIPE, 1000, Limits(), 0.02, 1)[0] == 1000


def test_growth_stops_at_the_limit_and_at_a_size_the_harness_refuses(workspace):
    sandbox, folder = workspace
    size, _ = calibrate_timing_size(sandbox, folder, RECIPE, 1000, Limits(), 10.0, 8)
    assert size == 8000  # at most max_growth times the size
    (folder / "original").rename(folder / "real")
    (folder / "original").write_text('#!/bin/sh\nREFUSE_ABOVE=50000 exec ./real "$@"\n')
    (folder / "original").chmod(0o755)
    size, seconds = calibrate_timing_size(sandbox, folder, RECIPE, 1000, Limits(), 10.0, 1 << 20)
    assert 1000 <= size <= 50000 and seconds is not None  # the last size that ran
    size, seconds = calibrate_timing_size(sandbox, folder, RECIPE, 60000, Limits(), 10.0, 64)
    assert (size, seconds) == (60000, None)  # even the given size is refused: kept, no time


def test_a_candidate_that_fails_at_the_grown_size_is_timed_at_a_smaller_one(workspace):
    """The size is grown on the original alone; a candidate whose runtime does not fit the
    limits there (here: refuses above 50,000) is timed at a quarter of it, with a note, and
    a candidate that fails even at the smallest size raises TimingFailed."""
    from ellora.tools.verify import TimingFailed, VerifySpec, time_variants_fitting

    sandbox, folder = workspace
    (folder / "candidate").write_text('#!/bin/sh\nREFUSE_ABOVE=50000 exec ./original "$@"\n')
    (folder / "candidate").chmod(0o755)
    spec = VerifySpec("p.cpp", "", "", str(folder), harness="p.harness.cpp")
    recipes = {"original": RECIPE, "candidate": RECIPE}
    medians, size, note = time_variants_fitting(sandbox, folder, spec, recipes, [1, 2], 400_000,
                                                1000, 1, 1, Limits())
    assert size == 25_000 and "at 100000 a timing run failed" in note
    assert set(medians["candidate"]) == {1, 2} and medians["original"][1] > 0
    assert time_variants_fitting(sandbox, folder, spec, recipes, [1], 1000, 1000, 1, 1,
                                 Limits())[1:] == (1000, "")
    with pytest.raises(TimingFailed):
        time_variants_fitting(sandbox, folder, spec, recipes, [1], 400_000, 100_000, 1, 1,
                              Limits())


ALTERNATING = """#!/bin/sh
n=$(cat calls 2>/dev/null || echo 0); n=$((n + 1)); echo $n > calls
if [ "$FLIP" = 1 ] && [ $((n % 2)) -eq 0 ]; then echo "ellora-time: 0.2"; else echo "ellora-time: 0.1"; fi
"""


@pytest.mark.parametrize("flip, calls", [("0", 3), ("1", 5)])
def test_rounds_go_on_while_their_speedups_disagree(workspace, flip, calls):
    """Three rounds when the rounds agree; when one round says 2x and the next 1x (a ratio of
    two similar times), more rounds, up to max_rounds, before the median is taken."""
    from ellora.tools.verify import VerifySpec, time_variants

    sandbox, folder = workspace
    (folder / "original").write_text('#!/bin/sh\necho "ellora-time: 0.2"\n')
    (folder / "candidate").write_text(ALTERNATING.replace("$FLIP", flip))
    for name in ("original", "candidate"):
        (folder / name).chmod(0o755)
    spec = VerifySpec("p.cpp", "", "", str(folder), harness="p.harness.cpp")
    recipes = {"original": RECIPE, "candidate": RECIPE}
    medians = time_variants(sandbox, folder, spec, recipes, [2], 1000, 1, 3, Limits(),
                            max_rounds=5)
    assert int((folder / "calls").read_text()) == calls
    assert medians["candidate"][2] == 0.1 and medians["original"][1] == 0.2
