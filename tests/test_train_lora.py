"""LoRA training on a tiny Gemma 3 built from a config: loss on answers, checkpoints and exact
resume, the ``ellora train`` commands (run, verify, test, merge), and the adapter in the
``transformers`` provider changing its answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("peft")

from ellora.agents.cli.main import main
from ellora.models import ModelSettings, ModelUnavailable, create_chat_model
from ellora.models.prompt_format import load_prompt_format
from ellora.models.train.config import TrainSettings
from ellora.models.train.data import load_examples
from ellora.models.train.sft import train
from ellora.models.train.tiny import write_random_model
from langchain_core.messages import HumanMessage, SystemMessage

DATA = Path(__file__).parent / "data" / "chatkokkos"
SAMPLE = str(DATA / "sample.json")
QUESTION = "Can you translate this OpenMP code to Kokkos?\n#pragma omp parallel for"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer Gemma 3 with random weights and a BPE trained on the rendered samples."""
    fmt = load_prompt_format("chatkokkos")
    texts = [fmt.render(e)[0] + e.answer for e in load_examples([SAMPLE])]
    return write_random_model(tmp_path_factory.mktemp("tiny") / "model", texts)


def settings_for(model: Path, output: Path, **changes) -> TrainSettings:
    values = {
        "base_model": str(model), "data": [SAMPLE], "output_dir": str(output), "max_steps": 6,
        "batch_size": 4, "grad_accum": 2, "max_len": 384, "warmup_steps": 0, "learning_rate": 1e-2,
        "save_every": 2, "num_threads": 1, "lr_schedule": "constant",
    }
    values.update(changes)
    return TrainSettings(**values)


@pytest.fixture(scope="module")
def trained(tiny_model, tmp_path_factory) -> Path:
    """A run of 6 optimizer steps; returns its output folder."""
    output = tmp_path_factory.mktemp("run") / "out"
    train(settings_for(tiny_model, output), progress=False)
    return output


def test_run_writes_log_checkpoints_and_adapter(trained):
    log = [json.loads(line) for line in (trained / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert log[-1]["loss"] < log[0]["loss"]
    assert all(r["peak_rss_mb"] > 0 and r["seconds"] > 0 for r in log)
    checkpoints = sorted(p.name for p in (trained / "checkpoints").iterdir())
    assert checkpoints == ["step-4", "step-6"]  # keep_checkpoints=2
    assert not list((trained / "checkpoints").rglob("model.safetensors"))  # adapter only
    adapter = trained / "adapter"
    meta = json.loads((adapter / "ellora_adapter.json").read_text())
    assert meta["prompt_format"] == "chatkokkos" and meta["steps"] == 6
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert sorted(config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    assert (config["r"], config["lora_alpha"], config["lora_dropout"]) == (16, 16, 0.05)
    report = json.loads((trained / "train_report.json").read_text())
    assert report["steps"] == 6 and report["examples"] == 8
    assert (trained / "loss.png").read_bytes().startswith(b"\x89PNG")


def test_resume_continues_exactly(tiny_model, trained, tmp_path):
    import torch
    from safetensors.torch import load_file

    output = tmp_path / "resumed"
    train(settings_for(tiny_model, output, max_steps=3), progress=False)
    report = train(settings_for(tiny_model, output, max_steps=6), resume=True, progress=False)
    assert report.start_step == 3 and report.steps == 3
    full = [json.loads(x) for x in (trained / "train_log.jsonl").read_text().splitlines()]
    parts = [json.loads(x) for x in (output / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in parts] == [1, 2, 3, 4, 5, 6]
    assert [r["loss"] for r in parts] == pytest.approx([r["loss"] for r in full], rel=1e-4)
    ours = load_file(output / "adapter" / "adapter_model.safetensors")
    theirs = load_file(trained / "adapter" / "adapter_model.safetensors")
    assert ours.keys() == theirs.keys()
    for key in ours:
        torch.testing.assert_close(ours[key], theirs[key], rtol=1e-4, atol=1e-6)


def provider(model: Path, adapter: Path | None, fmt: str = "chatkokkos", **extra):
    settings = ModelSettings(
        provider="transformers", model_path=str(model), prompt_format=fmt,
        adapter_path=str(adapter) if adapter else None, temperature=0.0, max_tokens=12,
        device="cpu", **extra,
    )
    return create_chat_model(settings)


def test_adapter_changes_the_providers_answers(tiny_model, trained):
    base = provider(tiny_model, None)
    tuned = provider(tiny_model, trained / "adapter")
    messages = [SystemMessage("OpenMP to Kokkos translation"), HumanMessage(QUESTION)]
    before, after = base.invoke(messages), tuned.invoke(messages)
    assert before.content != after.content
    for reply, chat in ((before, base), (after, tuned)):
        counts, meta = reply.usage_metadata, reply.response_metadata
        assert counts["input_tokens"] == chat.get_num_tokens_from_messages(messages)
        assert 0 < counts["output_tokens"] <= 12
        assert meta["latency_s"] > 0
        assert meta["tokens_per_s"] == pytest.approx(counts["output_tokens"] / meta["latency_s"])
    assert after.response_metadata["model"] == "model+adapter"
    assert tuned.capabilities.tool_calling is False


def test_provider_streams_and_counts_in_chat_format(tiny_model):
    chat = provider(tiny_model, None, fmt="chat")
    chunks = list(chat.stream([HumanMessage("Write a Kokkos parallel_for.")]))
    total = sum(chunks[1:], chunks[0])
    assert total.usage_metadata["output_tokens"] > 0
    assert total.response_metadata["finish_reason"] in ("stop", "length")
    assert total.response_metadata["time_to_first_token_s"] <= total.response_metadata[
        "latency_s"
    ]
    assert total.content == chat.invoke([HumanMessage("Write a Kokkos parallel_for.")]).content


def test_provider_errors_are_actionable(tiny_model, tmp_path):
    from ellora.models import ContextOverflow

    with pytest.raises(ModelUnavailable, match="adapter_config.json"):
        provider(tiny_model, tmp_path).invoke("hi")
    with pytest.raises(ValueError, match="unknown prompt format"):
        provider(tiny_model, None, fmt="nope")
    with pytest.raises(ContextOverflow) as info:
        provider(tiny_model, None, n_ctx=64).invoke(QUESTION * 20)
    assert info.value.over_by > 0


def test_cli_verify_test_and_merge(tiny_model, trained, tmp_path, capsys):
    import torch
    from ellora.models.hf_load import attach_adapter, load_causal_lm

    adapter = str(trained / "adapter")
    verify_out = tmp_path / "verify.json"
    code = main(["train", "verify", "--adapter", adapter, "--data", SAMPLE, "--limit", "3",
                 "--max-new-tokens", "8", "--device", "cpu", "--out", str(verify_out)])
    assert code == 0
    summary = json.loads(verify_out.read_text())
    assert summary["total"] == 3 and summary["exact"] + summary["mismatches"] == 3
    assert 0.0 <= summary["mean_similarity"] <= 1.0 and len(summary["items"]) == 3
    stem = tmp_path / "answers"
    assert main(["train", "test", str(DATA / "testing_sample.yaml"), "--adapter", adapter,
                 "--max-new-tokens", "6", "--device", "cpu", "--output", str(stem)]) == 0
    answers = json.loads(stem.with_suffix(".json").read_text())["answers"]
    assert len(answers) == 3 and all("response" in a for a in answers)
    assert stem.with_suffix(".md").read_text().count("Rating:") == 3
    merged = tmp_path / "merged"
    assert main(["train", "merge", adapter, "--output", str(merged)]) == 0
    ids = torch.tensor([[2, 40, 41, 42, 43]])
    with torch.inference_mode():
        expected = attach_adapter(load_causal_lm(tiny_model), adapter)(ids).logits
        got = load_causal_lm(merged)(ids).logits
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    capsys.readouterr()


def test_cli_run_and_bad_input(tiny_model, tmp_path, capsys):
    output = tmp_path / "cli"
    code = main(["train", "run", "--data", SAMPLE, "--output", str(output), "--max-steps", "1",
                 "--no-progress", "--base-model", str(tiny_model),
                 "--set", "train.batch_size=2", "--set", "train.grad_accum=1",
                 "--set", "train.max_len=384", "--set", "train.num_threads=1"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 1
    assert main(["train", "run", "--output", str(output)]) == 2
    assert "no training data" in capsys.readouterr().err
    assert main(["train", "run", "--data", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.json not found" in err


def test_accelerate_configs_parse():
    import ellora.models.train
    from accelerate.commands.config.config_args import load_config_from_file

    folder = Path(ellora.models.train.__file__).parent / "accelerate_configs"
    stages = {}
    for path in sorted(folder.glob("*.yaml")):
        config = load_config_from_file(str(path))
        stages[path.stem] = (config.deepspeed_config or {}).get("zero_stage")
    assert stages == {"ddp": None, "zero2": 2, "zero2_offload": 2, "zero3": 3,
                      "zero3_offload": 3}
    offload = load_config_from_file(str(folder / "zero3_offload.yaml")).deepspeed_config
    assert offload["offload_param_device"] == "cpu" == offload["offload_optimizer_device"]
