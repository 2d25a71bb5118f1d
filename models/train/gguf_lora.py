"""A PEFT LoRA adapter as a GGUF LoRA file that llama.cpp applies to its base GGUF.

``ellora train`` fine-tunes on the weights transformers dequantizes from the Gemma 3 GGUF, so
the adapter belongs on top of exactly that GGUF: llama.cpp (``Llama(lora_path=...)``,
``python -m llama_cpp.server --lora_path``, i.e. ``ellora serve --engine llama.cpp``) runs
it at llama.cpp's speed instead of transformers'. The file holds, per adapted weight
``W`` (``blk.N.attn_q.weight`` ...), ``W.lora_a`` (r x in) and ``W.lora_b`` (out x r) in
float32, with ``general.type = adapter``, ``adapter.type = lora`` and
``adapter.lora.alpha``: llama.cpp adds ``alpha / r * B A x``, as PEFT does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_PEFT_NAME = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<which>[AB])\.weight$")


class ExportError(ValueError):
    """The adapter cannot be written as a GGUF LoRA; the message says why."""


def _architecture(base_gguf: Path) -> tuple[str, int]:
    """(general.architecture, block count) of the base GGUF."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))
    field = reader.fields.get("general.architecture")
    if field is None:
        raise ExportError(f"{base_gguf} has no general.architecture: not a model GGUF")
    arch = bytes(field.parts[field.data[0]]).decode()
    blocks = reader.fields.get(f"{arch}.block_count")
    count = int(blocks.parts[blocks.data[0]][0]) if blocks is not None else 0
    return arch, count


def _base_gguf(adapter: Path, base: str | Path | None) -> Path:
    from ellora.models.gguf import default_gguf_path

    if base is None:
        meta = adapter / "ellora_adapter.json"
        named = json.loads(meta.read_text()).get("base_model") if meta.is_file() else None
        base = named if named and str(named).endswith(".gguf") else default_gguf_path()
    base = Path(base)
    if base.suffix != ".gguf" or not base.is_file():
        raise ExportError(f"base model {base} is not a .gguf file: pass --base-gguf FILE.gguf "
                          "(llama.cpp applies the adapter to a GGUF)")
    return base


def export_gguf_lora(adapter_dir: str | Path, output: str | Path,
                     base_gguf: str | Path | None = None) -> Path:
    """Write the PEFT adapter in ``adapter_dir`` as a GGUF LoRA at ``output``; the base is
    ``base_gguf`` or the GGUF the adapter was trained on (its ``ellora_adapter.json``)."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    adapter = Path(adapter_dir)
    config_path, weights_path = adapter / "adapter_config.json", adapter / "adapter_model.safetensors"
    if not config_path.is_file() or not weights_path.is_file():
        raise ExportError(f"{adapter} is not a PEFT adapter folder (adapter_config.json and "
                          "adapter_model.safetensors): pass OUTPUT/adapter of 'ellora train run'")
    config = json.loads(config_path.read_text())
    if config.get("peft_type", "LORA") != "LORA":
        raise ExportError(f"{adapter} is a {config.get('peft_type')} adapter: only LoRA exports")
    base = _base_gguf(adapter, base_gguf)
    arch_name, blocks = _architecture(base)
    arch = next((a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == arch_name), None)
    if arch is None:
        raise ExportError(f"architecture {arch_name!r} of {base} is unknown to gguf")
    names = gguf.get_tensor_name_map(arch, blocks)
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in load_file(str(weights_path)).items():
        match = _PEFT_NAME.match(key)
        if match is None:
            raise ExportError(f"{key}: only LoRA A/B matrices export (no modules_to_save, "
                              "no embedding adapters)")
        target = names.get_name(match["module"] + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise ExportError(f"{match['module']} has no GGUF tensor name for {arch_name}")
        pairs.setdefault(target, {})[match["which"]] = value.astype(np.float32)
    writer = gguf.GGUFWriter(str(output), arch_name)
    writer.add_string("general.type", "adapter")
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    for target, pair in sorted(pairs.items()):
        if set(pair) != {"A", "B"}:
            raise ExportError(f"{target}: the adapter has lora_A or lora_B alone")
        writer.add_tensor(f"{target}.lora_a", np.ascontiguousarray(pair["A"]))
        writer.add_tensor(f"{target}.lora_b", np.ascontiguousarray(pair["B"]))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(output)
