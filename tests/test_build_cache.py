"""The content-addressed build cache: hits on identical inputs, misses on any change."""

from ellora.agents.services import create_task_sandbox
from ellora.agents.settings import load_settings
from ellora.sandbox import Limits
from ellora.tools.build_cache import BuildCache
from ellora.tools.toolchain import detect_toolchain
from ellora.tools.verify import VerifySpec, build_variant, prepare_workspace

PROGRAM = '#include <cstdio>\nint main() { std::printf("%d\\n", 6 * 7); }\n'


def test_second_build_is_a_cache_hit_and_any_change_misses(tmp_path):
    sandbox = create_task_sandbox(load_settings())
    recipe = detect_toolchain(sandbox).recipe("serial")
    cache = BuildCache(tmp_path / "cache")
    spec = VerifySpec("p.cpp", PROGRAM, PROGRAM, str(tmp_path))

    def build(spec):
        workspace = prepare_workspace(sandbox, spec)
        outcome = build_variant(sandbox, workspace, spec, "candidate", recipe, Limits(), cache)
        result = sandbox.run(["./candidate"], workspace, Limits())
        sandbox.discard_workspace(workspace)
        return outcome, result.stdout.strip()

    first, out1 = build(spec)
    second, out2 = build(spec)
    assert (first.cached, second.cached) == (False, True)
    assert out1 == out2 == "42"
    changed = VerifySpec("p.cpp", PROGRAM, PROGRAM.replace("6 * 7", "6 * 8"), str(tmp_path))
    third, out3 = build(changed)
    assert not third.cached and out3 == "48"
    broken = VerifySpec("p.cpp", PROGRAM, "int main( {", str(tmp_path))
    fourth, _ = build(broken)
    fifth, _ = build(broken)
    assert not fourth.ok and not fifth.ok and fifth.cached
    assert fifth.diagnostics and fifth.diagnostics[0].file == "p.cpp"
