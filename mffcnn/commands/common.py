"""Options shared by several modes."""

from __future__ import annotations

import argparse
import shlex
import sys


def add_dataset_args(p: argparse.ArgumentParser, *, optional: bool = False) -> None:
    from mffcnn.data import DATASETS

    p.add_argument("dataset", choices=list(DATASETS), nargs="?" if optional else None, help="dataset layout")
    p.add_argument("root", nargs="?", help="dataset folder (none for synthetic)")
    g = p.add_argument_group("dataset options")
    g.add_argument("--contempt", action="store_true", default=None, help="ckplus48: add the contempt class (7)")
    g.add_argument("--subject-regex", help="folder: regex whose group 'subject' (or 1) is the person in a file name")
    g.add_argument("--subjects", type=int, help="synthetic: number of people (30)")
    g.add_argument("--per-class", type=int, help="synthetic: faces per person and class (5)")
    g.add_argument("--data-seed", type=int, help="synthetic: seed of the generated faces (0)")


def dataset_options(args) -> dict:
    """The dataset options the user gave (None = not given; the loader checks they apply)."""
    return {
        "contempt": args.contempt,
        "subject_regex": args.subject_regex,
        "subjects": args.subjects,
        "per_class": args.per_class,
        "seed": args.data_seed,
    }


def add_training_args(p: argparse.ArgumentParser) -> None:
    from mffcnn.train.recipes import DEFAULT_RECIPE, RECIPES

    p.add_argument("--recipe", choices=list(RECIPES), default=DEFAULT_RECIPE,
                   help=f"training recipe (default: {DEFAULT_RECIPE}; 'paper' is §4.2 exactly)")
    p.add_argument("--epochs", type=int, help="default: the paper's for the dataset (25 for CK+)")
    p.add_argument("--lr", type=float, help="initial learning rate")
    p.add_argument("--seed", type=int, default=0, help="fixes data order, augmentation and initial weights")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="default: cuda if present")
    p.add_argument("--amp", action="store_true", help="mixed precision (bfloat16 on CPU, float16 on GPU)")


def add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", default="runs", help="where run folders go (runs/MODE/exp, exp2, …)")
    p.add_argument("--name", default="exp")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary table")


def command_line() -> str:
    return shlex.join(["mffcnn", *sys.argv[1:]])
