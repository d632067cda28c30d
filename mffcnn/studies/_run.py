"""What every study shares: its options, its set-up, its run folder, and how it resumes.

StudyOptions (as whisper's DecodingOptions) holds what `cross_validate`, `train`, `ablate` and `sfew_protocol`
all take — the recipe, epochs, learning rate, seed, device, mixed precision, a checkpoint to start from, and
where and how loudly to write — instead of the same eleven keywords at the tail of four signatures. Each
study takes `options=StudyOptions(...)` or the same names as keywords.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

import torch

from mffcnn.data import load_dataset
from mffcnn.data.faceset import FaceSet
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNN, MFFCNNConfig, count_parameters
from mffcnn.report.cv import cv_results, write_protocol_report
from mffcnn.runs import code_version, latest_run, machine_info, new_run_dir, read_json
from mffcnn.train import distributed
from mffcnn.train.distributed import Dist
from mffcnn.train.folds import dataset_fingerprint, run_cv
from mffcnn.train.loop import Training, resolve_device
from mffcnn.train.recipes import DEFAULT_RECIPE, Recipe, epochs_for, get_recipe
from mffcnn.train.warm_start import initialiser


@dataclass(frozen=True)
class StudyOptions:
    """How a study trains, and where it writes."""

    recipe: str | Recipe = DEFAULT_RECIPE  # a name of mffcnn.train.recipes.RECIPES, or a Recipe
    epochs: int | None = None  # None: the recipe's, else the paper's for the dataset
    lr: float | None = None  # None: the recipe's initial learning rate
    seed: int = 0  # fixes data order, jitter and initial weights
    device: str = "auto"  # auto (cuda if present), cpu or cuda
    amp: bool = False  # mixed precision
    init: str | Path | None = None  # a checkpoint to start from (pretrain → fine-tune; train.warm_start)
    project: str | Path = "runs"  # run folders go to project/<mode>/<name>, <name>2, …
    name: str = "exp"
    verbose: bool = True  # progress bars and summary tables on stderr
    command: str | None = None  # the command line, recorded in the run folder

    @classmethod
    def of(cls, options: StudyOptions | None = None, **changes) -> StudyOptions:
        """`options` (or the defaults) with keyword changes; an unknown name is an error naming the valid ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise MffcnnError(
                f"unknown option(s) {', '.join(unknown)}; the study options are {', '.join(sorted(known))}"
            )
        return replace(options or cls(), **changes)

    def resolved_recipe(self) -> Recipe:
        recipe = get_recipe(self.recipe) if isinstance(self.recipe, str) else self.recipe
        return recipe if self.lr is None else recipe.replace(lr=self.lr)

    def to_dict(self) -> dict:
        """The options as a run folder records them."""
        return {
            "recipe": self.resolved_recipe().to_dict(),
            "seed": self.seed,
            "device": self.device,
            "amp": self.amp,
            "init": str(self.init) if self.init else None,
        }


@dataclass
class Setup:
    """A study's dataset, recipe, epochs, device and processes, resolved once."""

    faceset: FaceSet
    recipe: Recipe
    epochs: int
    device: torch.device
    dist: Dist

    def model_config(self, base: MFFCNNConfig | None = None) -> MFFCNNConfig:
        """The model for this dataset's classes, with the recipe's dropout."""
        return self.recipe.model_config((base or MFFCNNConfig()).replace(num_classes=len(self.faceset.class_names)))

    def training(self, model_config: MFFCNNConfig, options: StudyOptions) -> Training:
        """How to train `model_config` here: (model_config, recipe, epochs, seed, device, amp, dist)."""
        return Training(model_config, self.recipe, self.epochs, options.seed, self.device, options.amp, self.dist)


def recorded_training(recorded: dict, model_config: MFFCNNConfig, device, dist: Dist) -> Training:
    """How a run folder says to train (its options.json), for the model `model_config`."""
    recipe, amp = Recipe(**recorded["recipe"]), recorded.get("amp", False)
    return Training(model_config, recipe, recorded["epochs"], recorded["seed"], device, amp, dist)


def recorded_setup(
    s: Setup, dataset: str, root, dataset_options: dict | None, options: StudyOptions, call: str
) -> dict:
    """What options.json records about a cross-validating study: the data (with its fingerprint), the options,
    the code and the machine. `call`: how the library was called, when no command line is known."""
    return {
        "command": options.command or f"mffcnn.{call}({dataset!r}, {str(root) if root else None!r}, ...)",
        "dataset": dataset,
        "root": str(root) if root is not None else None,
        "dataset_options": dataset_options or {},
        **options.to_dict(),
        "epochs": s.epochs,
        "preprocessing": s.faceset.preprocessing.to_dict(),
        "fingerprint": dataset_fingerprint(s.faceset),
        "class_names": s.faceset.class_names,
        "prepare_summary": s.faceset.summary.to_dict(),
        "code": code_version(),
        "machine": machine_info(),
    }


def run_facts(training: Training, recorded: dict, start: float) -> dict:
    """What every protocol's results.json says about how it ran (start: its time.perf_counter())."""
    return {
        "recipe": training.recipe.name,
        "epochs": training.epochs,
        "seed": training.seed,
        "wall_seconds_this_session": round(time.perf_counter() - start, 2),
        "machine": recorded["machine"],
    }


def run_protocol(
    faceset: FaceSet, out: Path, training: Training, recorded: dict, protocol: str, *, verbose: bool, extra_of=None
) -> dict:
    """One protocol's folds (mffcnn.train.folds.run_cv, resumable; each fold from the run's --init, if any), then its
    results.json, report.md and confusion figure in `out`. extra_of(folds): more facts for results.json."""
    start = time.perf_counter()
    config = training.model_config
    init = init_factory(recorded.get("init"), config, faceset.class_names)
    spread = recorded.get("spread", "batches")
    folds = run_cv(
        faceset, out, training, protocol=protocol, n_folds=recorded["folds"], verbose=verbose, spread=spread, init=init
    )
    extra = {**run_facts(training, recorded, start), **(extra_of(folds) if extra_of else {})}
    results = cv_results(faceset, folds, protocol=protocol, params=count_parameters(MFFCNN(config)), extra=extra)
    if training.dist.is_main:
        write_protocol_report(out, results)
    return results


def setup(dataset: str, root, dataset_options: dict | None, options: StudyOptions) -> Setup:
    """Load the dataset (printing what was kept, on rank 0), resolve the recipe, epochs, device and ranks."""
    if options.epochs is not None and options.epochs < 1:  # 0 must not quietly mean "the default"
        raise MffcnnError(f"--epochs must be at least 1, not {options.epochs}")
    device = resolve_device(options.device)
    dist = distributed.from_env(device)
    if dist.active and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
    recipe = options.resolved_recipe()
    faceset = load_dataset(dataset, root, **(dataset_options or {}))
    if options.verbose and dist.is_main:
        print(faceset.summary.table(), file=sys.stderr)
    epochs = options.epochs if options.epochs is not None else epochs_for(recipe, faceset.name)
    return Setup(faceset=faceset, recipe=recipe, epochs=epochs, device=device, dist=dist)


def new_run(project, mode: str, name: str, dist: Dist = distributed.SINGLE) -> Path:
    """The next numbered run folder: rank 0 makes it, every rank gets its path."""
    return Path(distributed.broadcast_object(str(new_run_dir(project, mode, name)) if dist.is_main else None, dist))


def find_run(run_dir, project, mode: str, what: str) -> tuple[Path, dict]:
    """The run folder to resume (the latest of `mode` when run_dir is None) and its options."""
    run_dir = Path(run_dir) if run_dir else latest_run(project, mode)
    if run_dir is None or not (run_dir / "options.json").exists():
        where = f" at {run_dir}" if run_dir else f" under {project}/{mode}"
        raise MffcnnError(f"no {what} to resume{where}")
    return run_dir, read_json(run_dir / "options.json")


def reload_faceset(options: dict, run_dir: Path) -> FaceSet:
    """The dataset a run was started on, prepared as it was; an error when its files changed since."""
    faceset = load_dataset(
        options["dataset"],
        options["root"],
        preprocessing=Preprocessing.from_dict(options["preprocessing"]),
        **options["dataset_options"],
    )
    if dataset_fingerprint(faceset) != options["fingerprint"]:
        raise MffcnnError(f"the dataset at {options['root']} changed since {run_dir} started; start a new run")
    return faceset


def init_report(
    init, model_config: MFFCNNConfig, faceset: FaceSet, *, tested: bool, verbose: bool, label: str = ""
) -> dict | None:
    """Check a --init checkpoint before any run folder exists (its people must not be tested on when `tested`),
    and say what it loads."""
    if not init:
        return None
    _, report = initialiser(init, model_config, faceset.class_names, tested_on=faceset.name if tested else None)
    if verbose:
        print(f"{label}{report.line()}", file=sys.stderr)
    return report.to_dict()


def init_factory(init, model_config: MFFCNNConfig, class_names: list[str]) -> Callable[[], MFFCNN] | None:
    """What makes each fold's starting model from a run's --init (None without one)."""
    return initialiser(init, model_config, class_names)[0] if init else None
