"""What the cross-validation benches share: run (or reuse) one cv run per recipe and protocol, and write the
rows of their BENCHMARKS.md tables."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from mffcnn import cross_validate
from mffcnn.data import load_dataset
from mffcnn.runs import code_version, read_json
from mffcnn.train.folds import dataset_fingerprint
from mffcnn.train.recipes import Recipe, get_recipe


def add_args(ap: argparse.ArgumentParser, *, recipes: str = "paper,augmented") -> None:
    """The options every cross-validation bench takes."""
    ap.add_argument("--recipes", default=recipes)
    ap.add_argument("--protocols", default="random,subject")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--reuse", action="store_true", help="keep finished runs of the same options, data and code")
    ap.add_argument("--out", default="BENCHMARKS.md")


class CvBench:
    """The cv runs of one bench on one dataset: each trained, or with --reuse read back when a finished run of
    the same name, recipe, seed and options was made by the same mffcnn code (its hash) from the same data (its
    fingerprint). `reused` lists what was read back, for the section's header."""

    def __init__(self, dataset: str, data: str, args, **options):
        self.dataset, self.data, self.args, self.options = dataset, data, args, options
        self.reused: list[str] = []

    def run(
        self, recipe: str | Recipe, protocol: str, name: str, *, seed: int | None = None, **options
    ) -> tuple[Path, dict, float]:
        """(run folder, results, wall seconds) of `cross_validate` (its recorded wall time when reused); seed:
        the bench's --seed unless given."""
        recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
        seed = self.args.seed if seed is None else seed
        options = {**self.options, **options}
        folder = Path(self.args.project) / "cv" / name
        done = folder / protocol / "results.json"
        if folder.exists():
            if (
                self.args.reuse
                and done.exists()
                and self._same(read_json(folder / "options.json"), recipe, protocol, seed, options)
            ):
                self.reused.append(name)
                r = read_json(done)
                return folder, r, r["wall_seconds_this_session"]
            shutil.rmtree(folder)  # a stale bench run of this name: the bench owns its run folders
        start = time.perf_counter()
        run_dir, (r,) = cross_validate(
            self.dataset,
            self.data,
            protocol=protocol,
            recipe=recipe,
            seed=seed,
            project=self.args.project,
            name=name,
            **options,
        )
        return run_dir, r, time.perf_counter() - start

    def _same(self, o: dict, recipe: Recipe, protocol: str, seed: int, options: dict) -> bool:
        init = options.get("init")
        data_now = dataset_fingerprint(load_dataset(self.dataset, self.data, **(options.get("dataset_options") or {})))
        return (
            _recipe(o["recipe"]) == recipe
            and o["seed"] == seed
            and o["protocols"] == [protocol]
            and o["dataset_options"] == (options.get("dataset_options") or {})
            and o["folds"] == options.get("folds", 10)
            and (options.get("epochs") is None or o["epochs"] == options["epochs"])
            and o.get("init") == (str(init) if init else None)
            and o.get("code") == code_version()
            and o.get("fingerprint") == data_now
        )


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


def recipe_rows(bench: CvBench, prefix: str) -> tuple[list[str], list[tuple[str, dict]]]:
    """Every --recipes × --protocols run (named prefix-recipe-protocol): the table rows and the results."""
    rows, results = [], []
    for recipe in bench.args.recipes.split(","):
        for protocol in bench.args.protocols.split(","):
            run_dir, r, wall = bench.run(recipe, protocol, f"{prefix}-{recipe}-{protocol}")
            rows.append(result_row(recipe, r, wall, run_dir))
            results.append((recipe, r))
    return rows, results


def data_line(r: dict) -> str:
    """What a run's dataset held, from its results (not a number typed in)."""
    counts = ", ".join(f"{c} {n}" for c, n in r.get("class_counts", {}).items())
    return f"{r['n_images']:,} images of {r['n_subjects']} subjects, {len(r['class_names'])} classes ({counts})."


def per_class_table(rows: list[tuple[str, dict]], paper_row: tuple[str, dict] | None) -> list[str]:
    classes = rows[0][1]["class_names"]
    lines = ["| recipe | protocol | " + " | ".join(classes) + " |", "|---|---|" + "---:|" * len(classes)]
    for label, r in rows:
        cells = " | ".join(f"{100 * r['per_class_accuracy'][c]:.1f}" for c in classes)
        lines.append(f"| {label} | {r['protocol']} | {cells} |")
    if paper_row:
        label, per_class = paper_row
        lines.append(
            f"| {label} | random | " + " | ".join(f"{per_class.get(c, float('nan')):.1f}" for c in classes) + " |"
        )
    return lines
