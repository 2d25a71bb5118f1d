"""A tiny seccomp filter that stops sandboxed code from creating user namespaces.

Unprivileged user namespaces are the usual door to kernel attack surface (they hand out
capabilities over fresh namespaces). The filter, loaded by bubblewrap just before the command
starts, answers ``unshare``/``clone`` with ``CLONE_NEWUSER`` by EPERM, and ``clone3`` (whose
flags live in memory a filter cannot read) by ENOSYS so that libc falls back to ``clone``.
It also answers ``ptrace`` aimed at pid 1 by EPERM: pid 1 of the sandbox is the init that
reports how the command ended, and a traced init could report anything (``ellora-init`` also
makes itself non-dumpable, which covers ``/proc/1/mem`` and ``process_vm_readv``; this rule
covers ``sh`` as pid 1). The machine's compat ABI (i386 or arm) gets the same rules and x32
syscalls are refused. Everything else is allowed.

Only x86_64 and aarch64 are known; elsewhere :func:`filter_bytes` returns None.
"""

from __future__ import annotations

import errno
import platform
import struct

CLONE_NEWUSER = 0x10000000
_OPCODES = {"ld": 0x20, "jeq": 0x15, "jge": 0x35, "jset": 0x45, "ret": 0x06}
_ALLOW, _ERRNO, _X32_BIT = 0x7FFF0000, 0x00050000, 0x40000000
# in struct seccomp_data: the low (little-endian) words of arg0 and arg1
_OFF_NR, _OFF_ARCH, _OFF_ARG0, _OFF_ARG1 = 0, 4, 16, 24
SANDBOX_INIT_PID = 1

# machine -> {audit arch: (unshare, clone, clone3, ptrace)}; the native ABI first
_ABIS = {
    "x86_64": {0xC000003E: (272, 56, 435, 101), 0x40000003: (310, 120, 435, 26)},
    "aarch64": {0xC00000B7: (97, 220, 435, 117), 0x40000028: (337, 120, 435, 26)},
}

Insn = tuple[str, int, str | None, str | None]  # (op, k, jump-if-true label, if-false label)


def _abi_block(numbers: tuple[int, int, int, int], refuse_x32: bool) -> list[Insn | str]:
    """Rules for one ABI, run with the arch already checked; strings are labels.

    ``ptrace``'s pid is compared on its low 32 bits: the kernel truncates it to a pid_t.
    """
    unshare, clone, clone3, ptrace = numbers
    block: list[Insn | str] = [("ld", _OFF_NR, None, None)]
    if refuse_x32:
        block.append(("jge", _X32_BIT, "enosys", None))
    block += [
        ("jeq", clone3, "enosys", None),
        ("jeq", ptrace, "tracee", None),
        ("jeq", unshare, "flags", None),
        ("jeq", clone, "flags", "allow"),
        "flags", ("ld", _OFF_ARG0, None, None),
        ("jset", CLONE_NEWUSER, "eperm", "allow"),
        "tracee", ("ld", _OFF_ARG1, None, None),
        ("jeq", SANDBOX_INIT_PID, "eperm", "allow"),
        "enosys", ("ret", _ERRNO | errno.ENOSYS, None, None),
        "eperm", ("ret", _ERRNO | errno.EPERM, None, None),
        "allow", ("ret", _ALLOW, None, None),
    ]
    return block


def _assemble(block: list[Insn | str]) -> list[tuple[int, int, int, int]]:
    """Resolve labels into BPF's relative jump offsets: ``(code, jt, jf, k)``."""
    labels, position = {}, 0
    for item in block:
        if isinstance(item, str):
            labels[item] = position
        else:
            position += 1
    insns = [item for item in block if not isinstance(item, str)]
    out = []
    for index, (op, k, jt, jf) in enumerate(insns):
        true_off = labels[jt] - index - 1 if jt else 0
        false_off = labels[jf] - index - 1 if jf else 0
        out.append((_OPCODES[op], true_off, false_off, k))
    return out


def program(machine: str | None = None) -> list[tuple[int, int, int, int]] | None:
    """The whole filter as ``(code, jt, jf, k)`` instructions, or None for an unknown machine."""
    machine = machine or platform.machine()
    abis = _ABIS.get(machine)
    if abis is None:
        return None
    insns = [(_OPCODES["ld"], 0, 0, _OFF_ARCH)]
    for position, (arch, numbers) in enumerate(abis.items()):
        block = _assemble(_abi_block(numbers, position == 0 and machine == "x86_64"))
        insns.append((_OPCODES["jeq"], 0, len(block), arch))  # other arch: skip the block
        insns += block
    insns.append((_OPCODES["ret"], 0, 0, _ALLOW))
    return insns


def filter_bytes(machine: str | None = None) -> bytes | None:
    """The filter as bubblewrap's ``--seccomp FD`` reads it (packed ``struct sock_filter``)."""
    insns = program(machine)
    if insns is None:
        return None
    return b"".join(struct.pack("=HBBI", code, jt, jf, k) for code, jt, jf, k in insns)
