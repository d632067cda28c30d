"""Numbered run folders (runs/cv/exp, exp2, …) and what a run records about where it ran."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path


def new_run_dir(project: str | Path, task: str, name: str = "exp") -> Path:
    """Create and return the next free `project/task/name{,2,3,…}`."""
    base = Path(project) / task
    base.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = base / (name if n == 1 else f"{name}{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def latest_run(project: str | Path, task: str) -> Path | None:
    """The most recently created run folder of a task, or None."""
    base = Path(project) / task
    runs = [p for p in base.glob("*") if p.is_dir() and (p / "options.json").exists()] if base.is_dir() else []
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    import torch

    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def code_version() -> str:
    """A hash of mffcnn's own source: results reused by a benchmark must come from the same code."""
    import hashlib

    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def write_json(path: str | Path, data) -> None:
    """Write atomically (temp file, then rename) so an interrupted run never leaves half a file."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())
