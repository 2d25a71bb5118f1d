"""Data loaders, prompt formats, token masking and the HPC-Coder-style code data set."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from ellora.models.prompt_format import (
    Example,
    available_formats,
    load_prompt_format,
    split_example,
)
from ellora.models.train.data import DataError, load_examples, load_test_yaml, write_jsonl
from ellora.models.train.encode import IGNORE, batch_indices, encode_example
from ellora.models.train.rawcode import build_dataset, code_tokens

DATA = Path(__file__).parent / "data" / "chatkokkos"
HPC_CODER_V2 = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
)


class EosTokenizer:
    """Just enough tokenizer for named templates: an EOS string."""

    eos_token = "<eos>"


def test_chatkokkos_json_and_test_yaml():
    examples = load_examples([DATA / "sample.json"])
    assert len(examples) == 8
    assert examples[0].context == "OpenMP to Kokkos translation"
    assert examples[0].answer.startswith("Kokkos::parallel_for")
    tests = load_test_yaml(DATA / "testing_sample.yaml")
    assert len(tests) == 3
    assert tests[0].question.startswith("Can you translate this OpenACC code to Kokkos?")
    assert tests[0].context == "OpenMP to Kokkos translation" and tests[0].answer == ""


def test_hpc_instruct_and_generic_jsonl(tmp_path):
    rows = [
        {"problem statement": "Sum an array with OpenMP.", "solution": "#pragma omp ..."},
        {"question": "q2", "answer": "a2", "context": "c2"},
        {"instruction": "i3", "input": "ctx3", "output": "o3"},
        {"prompt": "p4", "completion": "c4"},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    examples = load_examples([path])
    assert [e.question for e in examples] == ["Sum an array with OpenMP.", "q2", "i3", "p4"]
    assert [e.answer for e in examples] == ["#pragma omp ...", "a2", "o3", "c4"]
    assert [e.context for e in examples] == ["", "c2", "ctx3", ""]
    copy = tmp_path / "copy.jsonl"
    assert write_jsonl(examples, copy) == 4
    assert load_examples([copy]) == examples


def test_bad_data_names_file_and_record(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "q", "answer": "a"}\n{"title": "x"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl record 1 has none of the column pairs"):
        load_examples([path])
    with pytest.raises(DataError, match="not found"):
        load_examples([tmp_path / "missing.json"])
    (tmp_path / "dict.json").write_text('{"question": "q"}')
    with pytest.raises(DataError, match="must hold a JSON list"):
        load_examples([tmp_path / "dict.json"])


def test_formats_are_shipped_data():
    assert available_formats() == ["chat", "chatkokkos", "hpc-coder-v2"]
    with pytest.raises(ValueError, match="unknown prompt format 'alpaca'"):
        load_prompt_format("alpaca")


def test_hpc_coder_v2_prompt_is_the_published_one():
    fmt = load_prompt_format("hpc-coder-v2")
    prompt, after = fmt.render(Example(question="Parallelize this loop.", answer="x"))
    assert prompt == HPC_CODER_V2.format(instruction="Parallelize this loop.")
    assert after == ""


def test_chatkokkos_template_keeps_text_and_mit_attribution():
    import ellora.models

    path = Path(ellora.models.__file__).parent / "prompt_formats" / "chatkokkos.toml"
    data = tomllib.loads(path.read_text())
    assert data["license"].startswith("MIT License")
    assert "Copyright (c) 2025 UT-BATTELLE, LLC" in data["license"]
    fmt = load_prompt_format("chatkokkos")
    with_context, _ = fmt.render(Example(question="Q?", context="C."))
    assert "### Context:\nC.\n" in with_context
    assert with_context.endswith("### Question:\nQ?\n\n### Answer:\n")
    without, _ = fmt.render(Example(question="Q?"))
    assert "### Context:" not in without


def test_split_example_prompt_plus_completion_is_the_training_text():
    fmt = load_prompt_format("chatkokkos")
    example = Example(question="Q?", context="C.", answer="Kokkos::fence();")
    prompt, completion = split_example(fmt, example, EosTokenizer())
    assert completion == "Kokkos::fence();\n<eos>"
    assert prompt == fmt.render(example)[0]


class CharTokenizer:
    """One token per character (ids = code points), BOS 2: checks masking exactly."""

    bos_token, eos_token = "<bos>", "<eos>"

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        ids = [ord(c) for c in text.replace("<eos>", "\x01")]
        return {"input_ids": ([2] if add_special_tokens else []) + ids}


def test_loss_mask_covers_the_prompt_and_truncation_is_counted():
    fmt = load_prompt_format("hpc-coder-v2")
    example = Example(question="Q", answer="ANSWER")
    item, truncated = encode_example(CharTokenizer(), fmt, example, max_len=1000)
    assert not truncated
    prompt_len = 1 + len(HPC_CODER_V2.format(instruction="Q"))
    assert item["labels"][:prompt_len] == [IGNORE] * prompt_len
    assert item["labels"][prompt_len:] == [ord(c) for c in "ANSWER"] + [1]
    cut, truncated = encode_example(CharTokenizer(), fmt, example, max_len=prompt_len + 2)
    assert truncated and len(cut["input_ids"]) == prompt_len + 2
    none, truncated = encode_example(CharTokenizer(), fmt, example, max_len=prompt_len)
    assert none is None and truncated


def test_batch_order_is_reproducible_and_split_across_ranks():
    first = [batch_indices(10, 4, seed=1, micro_batch=k) for k in range(5)]
    again = [batch_indices(10, 4, seed=1, micro_batch=k) for k in range(5)]
    assert first == again
    epoch = sorted(i for batch in first[:2] for i in batch) + first[2][:2]
    assert sorted(epoch) == list(range(10))  # each epoch is a permutation
    rank0 = batch_indices(10, 2, seed=1, micro_batch=0, rank=0, world=2)
    rank1 = batch_indices(10, 2, seed=1, micro_batch=0, rank=1, world=2)
    assert set(rank0).isdisjoint(rank1)


def test_code_dataset_counts_each_filter(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    kernel = "void axpy(int n, double a, const double* x, double* y) {\n" + (
        "  for (int i = 0; i < n; ++i) y[i] += a * x[i];\n}\n"
    )
    (src / "axpy.cpp").write_text(kernel)
    (src / "sub" / "copy.cc").write_text(kernel)  # duplicate bytes
    (src / "tiny.h").write_text("#pragma once\n")  # under 15 tokens
    (src / "big.c").write_text("int x = 0;\n" * 100_000)  # over 1 MB
    (src / "solver.F90").write_text(
        "subroutine s(n, x)\n  integer :: n\n  real :: x(n)\n  x = 2.0 * x\nend subroutine s\n"
    )
    (src / "notes.txt").write_text(kernel)
    report = build_dataset([src], tmp_path / "code.jsonl")
    assert (report.found, report.after_dedup, report.after_size, report.after_min_tokens) == (
        5, 4, 3, 2,
    )
    records = [json.loads(line) for line in (tmp_path / "code.jsonl").read_text().splitlines()]
    assert sorted(r["language"] for r in records) == ["c++", "fortran"]
    assert all(r["tokens"] >= 15 and len(r["sha256"]) == 64 for r in records)
    assert "after SHA-256 de-duplication: 4" in report.lines()
    assert code_tokens("x = a[i] + 1.5e3;") == 9  # x = a [ i ] + 1.5e3 ;
