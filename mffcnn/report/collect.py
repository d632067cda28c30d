"""Finding the run folders a report is made of, and what kind of run each is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mffcnn.errors import MffcnnError
from mffcnn.runs import read_json

KINDS = ("cv", "sfew", "ablate", "gradcam", "evaluate", "train")


@dataclass
class Run:
    kind: str
    path: Path
    options: dict
    results: dict | list | None


def run_kind(path: Path) -> str | None:
    """What kind of run folder this is, or None."""
    options = _read(path / "options.json")
    results = _read(path / "results.json")
    if isinstance(options, dict) and options.get("kind") in ("ablate", "gradcam"):
        return options["kind"]
    if isinstance(options, dict) and "protocols" in options and "fingerprint" in options:
        return "cv"
    if isinstance(results, dict) and "checkpoint" in results and "confusion_matrix" in results:
        return "evaluate"
    if isinstance(results, dict) and results.get("dataset") == "sfew" and "n_val" in results:
        return "sfew"  # the §4.6 protocol (mffcnn sfew): it also holds a model, so before "train"
    if isinstance(options, dict) and (path / "model.safetensors").exists():
        return "train"
    return None


def checkpoint_params(path: Path) -> int | None:
    """Parameter count of a saved checkpoint, from the safetensors header alone (no tensor is read)."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            return sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())
    except Exception:  # noqa: BLE001 — a missing or foreign file: the count is left out, the report goes on
        return None


def _read(path: Path):
    try:
        return read_json(path) if path.is_file() else None
    except (OSError, ValueError):
        return None


def find_runs(paths: Sequence[str | Path]) -> list[Run]:
    """The run folders given, or found below the folders given (e.g. `runs/`), in the order given."""
    found: list[Run] = []
    for p in map(Path, paths):
        if not p.exists():
            raise MffcnnError(f"{p} does not exist")
        before = len(found)
        _collect(p, found, depth=0)
        if len(found) == before:
            raise MffcnnError(
                f"{p} is not a run folder and holds none (looked for cv, ablate, gradcam, evaluate and train runs)"
            )
    unique, seen = [], set()
    for r in found:
        if r.path.resolve() not in seen:
            seen.add(r.path.resolve())
            unique.append(r)
    return unique


def _collect(path: Path, found: list[Run], depth: int) -> None:
    if not path.is_dir():
        return
    kind = run_kind(path)
    if kind:
        found.append(load_run(path, kind))
        return  # a run's own subfolders (an ablation's per-model folds) are not runs of their own
    if depth < 3:
        for child in sorted(p for p in path.iterdir() if p.is_dir()):
            _collect(child, found, depth + 1)


def load_run(path: Path, kind: str | None = None) -> Run:
    kind = kind or run_kind(path)
    if kind is None:
        raise MffcnnError(f"{path} is not a run folder")
    options = _read(path / "options.json") or {}
    if kind == "cv":
        results = [r for p in options.get("protocols", []) if (r := _read(path / p / "results.json"))]
    else:
        results = _read(path / "results.json")
    return Run(kind, path, options, results)


def dataset_of(run: Run) -> str | None:
    if isinstance(run.results, dict) and run.results.get("dataset"):
        return run.results["dataset"]
    if isinstance(run.results, list) and run.results:
        return run.results[0]["dataset"]
    return run.options.get("dataset")
