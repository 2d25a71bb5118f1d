"""``python -m ellora.models.llama_cpp_server ARGS``: ``python -m llama_cpp.server ARGS`` with the
model loaded the way the embedded provider loads it (on a CPU with AMX, without the extra
buffer types llama.cpp repacks weights into, see :func:`ellora.models.gguf.plain_cpu_buffers`:
with them, llama-cpp-python 0.3.36 crashes in the first decode there)."""

from __future__ import annotations

import runpy

from ellora.models.gguf import plain_cpu_buffers


def main() -> None:
    with plain_cpu_buffers():
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
