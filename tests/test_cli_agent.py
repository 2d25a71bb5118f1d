"""ellora-agent as a user runs it: bad input, --json, --apply, kill and --resume, lazy --help."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO

AGENT = [sys.executable, "-m", "ellora.agents.cli.agent_command"]
FAST = [
    "--set",
    "agent.timing_size=200000",
    "--set",
    "agent.timing_repeats=2",
    "--set",
    "agent.test_sizes=[0,1,7,1001]",
]


def agent(*args, cwd=None, env=None):
    return subprocess.run(
        [*AGENT, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def saxpy_copy(tmp_path):
    for name in ("saxpy.cpp", "saxpy.harness.cpp"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path / "saxpy.cpp"


@pytest.mark.parametrize(
    "args, message",
    [
        (["parallelize", "--file", "missing.cpp"], "file missing.cpp not found"),
        (["parallelize", "--file", "{saxpy}", "--lines", "40-50"], "outside"),
        (["parallelize", "--file", "{saxpy}", "--lines", "x-y"], "bad --lines 'x-y'"),
        (["  ", "--file", "{saxpy}"], "the task is empty"),
        (
            ["parallelize", "--file", "{saxpy}", "--model", "gpt-banana"],
            "bad setting model.provider",
        ),
        (
            ["parallelize", "--file", "{saxpy}", "--set", "agent.threads=oops"],
            "bad setting agent.threads",
        ),
        (["parallelize"], "no --file given"),
        (["--resume", "doesnotexist"], "no task 'doesnotexist' to resume"),
    ],
)
def test_bad_input_is_one_line_with_no_traceback(args, message, saxpy_copy):
    result = agent(*[a.replace("{saxpy}", str(saxpy_copy)) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_endpoint_that_does_not_answer_is_one_line(saxpy_copy):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = agent(
        "parallelize with OpenMP",
        "--file",
        str(saxpy_copy),
        "--lines",
        "5-7",
        "--model",
        "openai-compatible",
        "--quiet",
        "--set",
        f"model.base_url=http://127.0.0.1:{port}/v1",
        "--set",
        "model.max_retries=1",
        "--set",
        "agent.prefer_transformations=false",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"127.0.0.1:{port}" in result.stderr and "--resume" in result.stderr


def test_json_report_and_file_untouched_without_apply(saxpy_copy):
    before = saxpy_copy.read_text()
    result = agent(
        "parallelize this loop with OpenMP",
        "--file",
        str(saxpy_copy),
        "--lines",
        "5-7",
        "--json",
        "--quiet",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "verified"
    assert {"task", "plan", "diff", "build", "test", "speedups", "model", "sources"} <= set(report)
    assert Path(report["patch"]).read_text() == report["diff"]
    assert saxpy_copy.read_text() == before
    assert not list(saxpy_copy.parent.glob("*.orig*"))


def test_apply_writes_atomically_and_keeps_the_original(saxpy_copy):
    before = saxpy_copy.read_text()
    result = agent(
        "parallelize this loop with OpenMP",
        "--file",
        str(saxpy_copy),
        "--lines",
        "5-7",
        "--apply",
        "--quiet",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert "#pragma omp parallel for" in saxpy_copy.read_text()
    assert (saxpy_copy.parent / "saxpy.cpp.orig").read_text() == before
    assert "original kept as" in result.stdout


def test_apply_refuses_an_unverified_change(tmp_path):
    source = tmp_path / "scan.cpp"
    text = "void scan(int n, double* a) {\n  for (int i = 1; i < n; ++i) a[i] += a[i - 1];\n}\n"
    source.write_text(text)
    result = agent("parallelize with OpenMP", "--file", str(source), "--apply", "--quiet")
    assert result.returncode == 1
    assert "not applied" in result.stderr and "refused" in result.stderr
    assert source.read_text() == text and not list(tmp_path.glob("*.orig*"))


def test_killed_task_resumes_where_it_stopped(saxpy_copy, tmp_path):
    slow = ["--set", "agent.timing_size=20000000", "--set", "agent.timing_repeats=20"]
    process = subprocess.Popen(
        [*AGENT, "parallelize with OpenMP", "--file", str(saxpy_copy), "--lines", "5-7", *slow],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    task_id = None
    for line in process.stderr:
        if line.startswith("[ellora] task "):
            task_id = line.split()[2].rstrip(":")
        if line.startswith("[tester]"):
            break
    time.sleep(1.0)  # the profiler is running now
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert task_id
    result = agent("--resume", task_id, *FAST)
    assert result.returncode == 0, result.stderr
    assert "[planner]" not in result.stderr and "[tester]" not in result.stderr
    assert "[profiler]" in result.stderr
    assert "Status: VERIFIED" in result.stdout


def test_help_is_lazy():
    code = (
        "import sys; from ellora.agents.cli import agent_command, main\n"
        "for entry in (agent_command.main, main.main):\n"
        "    try:\n        entry(['--help'])\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('langgraph', 'llama_cpp', 'tree_sitter', 'langchain_core', "
        "'httpx') if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_ellora_umbrella_command_lists_and_rejects():
    ok = subprocess.run(
        [sys.executable, "-m", "ellora.agents.cli.main", "--help"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "agent" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ellora.agents.cli.main", "frobnicate"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown command 'frobnicate'" in bad.stderr
