"""What the cross-validation benches share: run (or reuse) one cv run per recipe and protocol, and
write the rows of their BENCHMARKS.md tables."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from mffcnn import cross_validate
from mffcnn.runs import code_version, read_json
from mffcnn.train.recipes import Recipe, get_recipe


def run_or_reuse(
    dataset: str,
    data: str,
    *,
    recipe: str | Recipe,
    protocol: str,
    seed: int,
    project: str,
    name: str,
    reuse: bool,
    **options,
) -> tuple[Path, dict, float]:
    """(run folder, results, wall seconds) of `cross_validate`. With reuse, a finished run of the same
    name, recipe, seed and options, made by the same mffcnn code from the same data (its fingerprint), is read
    instead of trained again (its recorded wall time is kept)."""
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    folder = Path(project) / "cv" / name
    done = folder / protocol / "results.json"
    if folder.exists():
        same = False
        if reuse and done.exists():
            o = read_json(folder / "options.json")
            init = options.get("init")
            same = (
                _recipe(o["recipe"]) == recipe
                and o["seed"] == seed
                and o["protocols"] == [protocol]
                and o["dataset_options"] == (options.get("dataset_options") or {})
                and o["folds"] == options.get("folds", 10)
                and (options.get("epochs") is None or o["epochs"] == options["epochs"])
                and o.get("init") == (str(init) if init else None)
                and o.get("code") == code_version()  # made by this very mffcnn
                and o.get("fingerprint") == _fingerprint(dataset, data, options.get("dataset_options"))
            )
        if same:
            r = read_json(done)
            return folder, r, r["wall_seconds_this_session"]
        shutil.rmtree(folder)  # a stale bench run of this name: the bench owns its run folders
    start = time.perf_counter()
    run_dir, (r,) = cross_validate(
        dataset, data, protocol=protocol, recipe=recipe, seed=seed, project=project, name=name, **options
    )
    return run_dir, r, time.perf_counter() - start


def _fingerprint(dataset: str, data: str, dataset_options: dict | None) -> str:
    """The fingerprint of the dataset as it is now (from the prepared-dataset cache: quick)."""
    from mffcnn.data import load_dataset
    from mffcnn.train.folds import dataset_fingerprint

    return dataset_fingerprint(load_dataset(dataset, data, **(dataset_options or {})))


def _recipe(d: dict) -> Recipe | None:
    """A stored recipe, with fields added since it was written at their defaults."""
    try:
        return Recipe(**d)
    except TypeError:  # a field this version no longer has
        return None


def result_row(label: str, r: dict, wall: float, run_dir: Path) -> str:
    return (
        f"| {label} | {r['protocol']} | **{100 * r['mean_accuracy']:.2f}** ± {100 * r['std_accuracy']:.2f} | "
        f"{100 * r['mean_per_class_accuracy']:.2f} | {r['epochs']} | {wall / 60:.1f} min | `{run_dir}` |"
    )


RESULT_HEADER = [
    "| recipe | protocol | mean accuracy % ± std over folds | mean of per-class % | epochs | wall time | run |",
    "|---|---|---:|---:|---:|---:|---|",
]


def per_class_table(rows: list[tuple[str, dict]], paper_row: tuple[str, dict] | None) -> list[str]:
    classes = rows[0][1]["class_names"]
    lines = ["| recipe | protocol | " + " | ".join(classes) + " |", "|---|---|" + "---:|" * len(classes)]
    for label, r in rows:
        lines.append(
            f"| {label} | {r['protocol']} | "
            + " | ".join(f"{100 * r['per_class_accuracy'][c]:.1f}" for c in classes)
            + " |"
        )
    if paper_row:
        label, per_class = paper_row
        lines.append(
            f"| {label} | random | " + " | ".join(f"{per_class.get(c, float('nan')):.1f}" for c in classes) + " |"
        )
    return lines
