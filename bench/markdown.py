"""Each bench script owns one section of BENCHMARKS.md, between markers, and rewrites only that."""

from __future__ import annotations

import re
from pathlib import Path


def update_section(path: str | Path, name: str, body: str) -> None:
    path = Path(path)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = (
        path.read_text()
        if path.exists()
        else "# Benchmarks\n\nEvery number here is written by a script in bench/; rerun it to check.\n"
    )
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


# The vector instruction sets that decide how fast ONNX Runtime's and PyTorch's kernels run, by their
# /proc/cpuinfo flag names: (flag, name written).
SIMD_FLAGS = (
    ("avx2", "AVX2"),
    ("fma", "FMA"),
    ("avx512f", "AVX-512"),
    ("avx512_vnni", "AVX-512 VNNI"),
    ("avx_vnni", "AVX-VNNI"),
    ("avx512_bf16", "AVX-512 BF16"),
    ("amx_int8", "AMX-INT8"),
)


def cpu_flags() -> set[str]:
    """The CPU's feature flags as the kernel lists them (/proc/cpuinfo; empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.partition(":")[2].split())
    return set()


def has_vnni(flags: set[str] | None = None) -> bool:
    """Whether the CPU has int8 dot-product instructions (AVX-512 VNNI or AVX-VNNI)."""
    flags = cpu_flags() if flags is None else flags
    return bool(flags & {"avx512_vnni", "avx_vnni"})


def simd_text(flags: set[str] | None = None) -> str:
    """What the CPU has and lacks of SIMD_FLAGS, e.g. "AVX2, FMA; no AVX-512, AVX-512 VNNI, …", from its flags."""
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return "CPU flags unknown (no /proc/cpuinfo)"
    has = [name for flag, name in SIMD_FLAGS if flag in flags]
    lacks = [name for flag, name in SIMD_FLAGS if flag not in flags]
    return ", ".join(has or ["none of AVX2, AVX-512, VNNI"]) + (f"; no {', '.join(lacks)}" if lacks else "")


def write_section(path: str | Path, name: str, title: str, lines: list[str], *, reused: list[str] = ()) -> str:
    """BENCHMARKS.md's section `name`: "## title", the command exactly as it was run (its arguments, a --reuse
    among them), the date and the machine, which results were reused from earlier runs, then `lines`.
    Printed, written to `path`, returned."""
    import datetime
    import shlex
    import sys

    from mffcnn.runs import machine_info

    m = machine_info()
    command = shlex.join(["python", *sys.argv])
    where = (
        f"{datetime.date.today()}, on {m['cpu']} ({m['cores']} cores, {simd_text()}; torch {m['torch']}, "
        f"{m['torch_threads']} threads)"
    )
    again = f" Reused, not run again (same data and code): {', '.join(reused)}." if reused else ""
    body = "\n".join([f"## {title} (`python {sys.argv[0]}`)", "", f"Command: `{command}`, {where}.{again}", "", *lines])
    update_section(path, name, body)
    print(body)
    return body
