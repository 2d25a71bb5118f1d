"""The LangChain tools are real: schemas for the model, and real analysis, builds, profiles."""

from ellora.agents.services import create_task_sandbox
from ellora.agents.settings import load_settings
from ellora.tools.agent_tools import make_agent_tools
from ellora.tools.toolchain import detect_toolchain


def tools_by_name():
    sandbox = create_task_sandbox(load_settings())
    return {t.name: t for t in make_agent_tools(sandbox, detect_toolchain(sandbox))}


def test_tools_have_schemas_and_docstrings():
    tools = tools_by_name()
    assert set(tools) == {"analyze_loop", "compile", "hotspots"}
    for tool in tools.values():
        assert tool.description and tool.args
    assert set(tools["compile"].args) == {"source", "programming_model", "file_name"}


def test_tools_run_for_real():
    tools = tools_by_name()
    facts = tools["analyze_loop"].invoke(
        {
            "source": "void f(int n, double* a) {\n for (int i = 1; i < n; ++i) a[i] += a[i-1];\n}",
            "first_line": 1,
            "last_line": 3,
        }
    )
    assert "loop-carried dependence on a" in facts["dependence"]
    broken = tools["compile"].invoke({"source": "int main() { return x; }"})
    assert not broken["ok"] and broken["diagnostics"][0]["line"] == 1
    program = (
        "#include <cstdio>\n__attribute__((noinline)) long work(long n) { long s = 0; for (long i = 0; i < n; ++i)"
        ' s += i % 7; return s; }\nint main() { std::printf("%ld\\n", work(2000000)); }'
    )
    profile = tools["hotspots"].invoke({"source": program})
    assert profile["available"] and "work" in profile["top_functions"][0]["function"]


def test_analyze_loop_reports_the_verdict():
    analyze = tools_by_name()["analyze_loop"]
    source = ("#include <vector>\nint countEven(const std::vector<int>& x) {\n  int count = 0;\n"
              "  for (int i = 0; i < (int)x.size(); ++i) { if (x[i] % 2 == 0) ++count; }\n"
              "  return count;\n}\n")
    found = analyze.invoke({"source": source, "first_line": 1, "last_line": 6})
    assert found["parallel"] and found["pattern"] == "reduction"
    assert found["reductions"] == [{"variable": "count", "operator": "+"}]
    assert found["dependence"] is None and "count: +-reduction" in found["facts"]
    doubling = "void f(int n, double* y) {\n for (int i = 1; i < n; i *= 2) y[i] = 0;\n}\n"
    found = analyze.invoke({"source": doubling, "first_line": 1, "last_line": 3})
    assert not found["parallel"] and found["dependence"].startswith("not a counted loop")
    found = analyze.invoke({"source": source, "first_line": 5, "last_line": 6})
    assert found == {"error": "no for loop starts in lines 5-6"}
