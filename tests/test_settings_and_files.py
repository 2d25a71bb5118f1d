"""Settings sources and priorities; the user-file layer (ranges, atomic apply, backups)."""

import pytest

from ellora.agents.cli.errors import UserError
from ellora.agents.settings import load_settings, parse_overrides
from ellora.agents.user_files import apply_change, backup_path, parse_line_range, write_target
from ellora.tools.diagnostics import parse_diagnostics


def test_defaults_use_the_embedded_model():
    settings = load_settings()
    assert settings.model.provider == "embedded"
    assert settings.agent.threads == [1, 2]


def test_file_then_env_then_cli_in_rising_priority(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ellora.toml").write_text(
        '[model]\nprovider = "openai-compatible"\nmodel = "from-file"\n'
        "[agent]\nmax_fix_attempts = 5\n"
    )
    monkeypatch.setenv("ELLORA_MODEL__MODEL", "from-env")
    settings = load_settings(parse_overrides(["agent.threads=[1,2,4]"]))
    assert settings.model.provider == "openai-compatible"
    assert settings.model.model == "from-env"
    assert settings.agent.max_fix_attempts == 5
    assert settings.agent.threads == [1, 2, 4]


def test_user_config_file_is_read(isolated_user_dirs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = isolated_user_dirs / "config" / "ellora"
    config.mkdir(parents=True)
    (config / "ellora.toml").write_text("[sandbox]\nwall_s = 33\n")
    assert load_settings().sandbox.wall_s == 33


@pytest.mark.parametrize(
    "pairs, message",
    [
        (["model.provider=banana"], "bad setting model.provider"),
        (["nonsense"], "bad --set 'nonsense'"),
        (["agent.max_fix_attempts=-1"], "bad setting agent.max_fix_attempts"),
        (["unknown.key=1"], "bad setting unknown"),
    ],
)
def test_bad_settings_are_one_line_errors(pairs, message):
    with pytest.raises(UserError, match=message):
        load_settings(parse_overrides(pairs))


def test_line_ranges_are_checked(tmp_path):
    path = tmp_path / "f.cpp"
    text = "a\nb\nc\n"
    assert parse_line_range("2-3", text, path) == (2, 3)
    assert parse_line_range("2", text, path) == (2, 2)
    assert parse_line_range(None, text, path) == (1, 3)
    for bad in ("0-1", "3-2", "1-4", "a-b"):
        with pytest.raises(UserError):
            parse_line_range(bad, text, path)


def test_apply_keeps_every_original_and_refuses_a_moved_file(tmp_path):
    path = tmp_path / "f.cpp"
    path.write_text("one\n")
    path.chmod(0o640)
    first_backup = apply_change(path, "one\n", "two\n")
    assert path.read_text() == "two\n" and first_backup.read_text() == "one\n"
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    second_backup = apply_change(path, "two\n", "three\n")
    assert second_backup.name == "f.cpp.orig.1" and second_backup.read_text() == "two\n"
    with pytest.raises(UserError, match="changed since the task started"):
        apply_change(path, "two\n", "four\n")
    assert path.read_text() == "three\n"
    assert backup_path(path).name == "f.cpp.orig.2"


def test_apply_writes_through_a_symlink_and_keeps_the_backup_beside_the_target(tmp_path):
    real = tmp_path / "src" / "f.cpp"
    real.parent.mkdir()
    real.write_text("one\n")
    link = tmp_path / "f.cpp"
    link.symlink_to(real)
    backup = apply_change(link, "one\n", "two\n")
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text() == "two\n" and backup == real.with_name("f.cpp.orig")
    assert write_target(link) == real and not (tmp_path / "f.cpp.orig").exists()


def test_apply_refuses_a_read_only_file_unless_forced(tmp_path):
    path = tmp_path / "f.cpp"
    path.write_text("one\n")
    path.chmod(0o444)
    with pytest.raises(UserError, match="read-only: rerun with --force"):
        apply_change(path, "one\n", "two\n")
    assert path.read_text() == "one\n" and not list(tmp_path.glob("*.orig*"))
    apply_change(path, "one\n", "two\n", force=True)
    assert path.read_text() == "two\n" and oct(path.stat().st_mode & 0o777) == "0o444"


def test_gcc_clang_nvcc_and_linker_diagnostics_are_parsed():
    output = (
        "candidate.cpp:7:29: error: expected ';' before '}' token\n"
        "candidate.cpp:3:1: warning: unused variable 'x' [-Wunused-variable]\n"
        "In file included from harness.cpp:3:\n"
        'kernel.cu(12): error: identifier "foo" is undefined\n'
        "/usr/bin/ld: original.o: in function `main': undefined reference to `saxpy'\n"
        "x.cpp:1:10: fatal error: missing.h: No such file or directory\n"
    )
    found = parse_diagnostics(output)
    assert [(d.file, d.line, d.column, d.severity) for d in found] == [
        ("candidate.cpp", 7, 29, "error"),
        ("candidate.cpp", 3, 1, "warning"),
        ("kernel.cu", 12, 0, "error"),
        ("<link>", 0, 0, "error"),
        ("x.cpp", 1, 10, "error"),
    ]


def test_the_workspace_disk_quota_is_a_setting(make_services):
    assert make_services().limits.disk_mb == 2048
    assert make_services(sandbox={"disk_mb": 100}).limits.disk_mb == 100
    with pytest.raises(UserError, match="bad setting sandbox.disk_mb"):
        load_settings(parse_overrides(["sandbox.disk_mb=0"]))
