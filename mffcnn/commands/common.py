"""Options shared by several modes."""

from __future__ import annotations

import argparse
import shlex
import sys

from mffcnn.commands import values

# Options whose absence means "the dataset's own default": a --x/--no-x switch, or a flag that only turns on.
SWITCH = {"action": argparse.BooleanOptionalAction, "default": None}
FLAG = {"action": "store_true", "default": None}


def add_dataset_args(p: argparse.ArgumentParser, *, optional: bool = False, positional: bool = True) -> None:
    from mffcnn.data import DATASETS

    if positional:
        p.add_argument("dataset", choices=list(DATASETS), nargs="?" if optional else None, help="dataset layout")
        p.add_argument("root", nargs="?", help="dataset folder (none for synthetic; fer2013 also takes the csv)")
    g = p.add_argument_group("dataset options (each applies to the datasets named)")
    g.add_argument("--contempt", **FLAG, help="ckplus, ckplus48, ferplus: add the contempt class")
    g.add_argument(
        "--neutral", **FLAG, help="jaffe: add the 30 neutral photos; ckplus: each sequence's first frame as neutral"
    )
    g.add_argument(
        "--augment",
        **SWITCH,
        help="jaffe (on by default, as the paper), folder (off): each photo in 8 versions "
        "(mirror, ±5°, ±10°, ±15°, §4.1)",
    )
    g.add_argument("--frames", type=values.COUNT, help="ckplus, oulu: the last N frames of each sequence (3)")
    g.add_argument("--camera", choices=["vis", "nir"], help="oulu: camera (vis)")
    g.add_argument("--light", choices=["strong", "weak", "dark"], help="oulu: illumination (strong = normal)")
    g.add_argument(
        "--split",
        choices=["train", "val", "valid", "test", "all"],
        help="sfew: train (default), val, all; fer2013: train (default, Training), val (PublicTest), "
        "test (PrivateTest), all; ferplus: train (default, FER2013Train), valid (= val), test, all; "
        "affectnet: train (default), valid (= val), all",
    )
    g.add_argument(
        "--source",
        choices=["all", "affectnet", "ffhq"],
        help="affectnet: every face (default), only AffectNet's own (image*), or only the cut's FFHQ additions (ffhq_*)",
    )
    g.add_argument(
        "--labels",
        choices=["majority", "votes"],
        help="ferplus: the unique top vote (default; ties, unknown and not-a-face dropped) or the "
        "annotators' vote distribution as a soft target",
    )
    g.add_argument("--subject-regex", help="folder: regex whose group 'subject' (or 1) is the person in a file name")
    g.add_argument("--subjects", type=values.COUNT, help="synthetic: number of people (30)")
    g.add_argument("--per-class", type=values.COUNT, help="synthetic: faces per person and class (5)")
    g.add_argument("--data-seed", type=values.SEED, help="synthetic: seed of the generated faces (0)")
    add_face_args(p)


def add_folds_args(p: argparse.ArgumentParser) -> None:
    """The cross-validation's protocols and number of folds (cv, ablate)."""
    p.add_argument(
        "--protocol",
        choices=["random", "subject", "both"],
        default="both",
        help="random folds (paper), subject-independent folds, or both (default)",
    )
    p.add_argument("--folds", type=values.FOLDS, default=10, help="number of folds, at least 2 (default: 10)")


def add_face_args(p: argparse.ArgumentParser) -> None:
    from mffcnn.data.preprocess import MIN_MARGIN

    g = p.add_argument_group("face cropping (Viola-Jones, §4.1, or BlazeFace with alignment)")
    g.add_argument(
        "--detect-face",
        **SWITCH,
        help="find the face with Viola-Jones and crop it (default: on for ckplus, jaffe, oulu; "
        "off for the aligned ckplus48, sfew, fer2013, and for folder and synthetic)",
    )
    g.add_argument(
        "--margin",
        type=values.number(MIN_MARGIN, above=False, maximum=2),
        help="grow the face box by this fraction of its side on every side (0)",
    )
    g.add_argument(
        "--no-face",
        choices=["skip", "whole"],
        help="when no face is found: skip the image (default; counted) or use the whole image",
    )
    g.add_argument(
        "--detector",
        choices=["haar", "blazeface"],
        help="the face detector: haar (Viola-Jones, the paper's; every dataset's default) or blazeface "
        "(landmarks; what a trained model uses in predict unless this says otherwise)",
    )
    g.add_argument(
        "--align",
        choices=["box", "eyes"],
        help="the crop: box (the detector's box, axis-aligned; default) or eyes (eyes level, scaled by the "
        "face's size; with face detection off each image is a loose face crop, aligned inside)",
    )
    g = p.add_argument_group("dataset cache")
    g.add_argument(
        "--cache-dir", help="where prepared datasets are cached (default: $MFFCNN_CACHE_DIR or ~/.cache/mffcnn)"
    )
    g.add_argument("--no-cache", action="store_true", help="read and crop the dataset afresh; store nothing")


def dataset_options_from(args) -> dict:
    """The dataset options the user gave (None = not given; the loader checks they apply)."""
    from mffcnn.errors import MffcnnError

    if getattr(args, "no_cache", False) and getattr(args, "cache_dir", None):
        raise MffcnnError("--no-cache and --cache-dir contradict each other; give one")
    return {
        "contempt": args.contempt,
        "neutral": args.neutral,
        "augment": args.augment,
        "frames": args.frames,
        "camera": args.camera,
        "light": args.light,
        "split": args.split,
        "labels": args.labels,
        "source": args.source,
        "subject_regex": args.subject_regex,
        "subjects": args.subjects,
        "per_class": args.per_class,
        "seed": args.data_seed,
        **face_options(args),
    }


def face_options(args) -> dict:
    return {
        "detect_face": args.detect_face,
        "margin": args.margin,
        "no_face": args.no_face,
        "face_detector": args.detector,
        "align": args.align,
        "cache": False if args.no_cache else args.cache_dir,
    }


def add_training_args(
    p: argparse.ArgumentParser, *, epochs_help: str | None = None, init_help: str | None = None
) -> None:
    """The options of StudyOptions that say how to train (study_options reads them back)."""
    from mffcnn.train.recipes import DEFAULT_RECIPE, RECIPES

    p.add_argument(
        "--recipe",
        choices=list(RECIPES),
        default=DEFAULT_RECIPE,
        help=f"training recipe (default: {DEFAULT_RECIPE}; 'paper' is §4.2 exactly)",
    )
    p.add_argument(
        "--epochs", type=values.COUNT, help=epochs_help or "default: the paper's for the dataset (25 for CK+)"
    )
    p.add_argument("--lr", type=values.POSITIVE, help="initial learning rate")
    p.add_argument("--seed", type=values.SEED, default=0, help="fixes data order, jitter and initial weights")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="default: cuda if present")
    p.add_argument(
        "--amp",
        action="store_true",
        help="mixed precision (bfloat16; float16 with loss scaling on GPUs without bfloat16)",
    )
    p.add_argument(
        "--init",
        type=values.existing_file,
        metavar="CHECKPOINT",
        help=init_help
        or "start from this checkpoint's weights (pretrain → fine-tune): every weight that "
        "fits is loaded, classifier rows by class name; it must not have been trained "
        "on the test people",
    )


STUDY_ARGS = ("recipe", "epochs", "lr", "seed", "device", "amp", "init", "project", "name")


def check_init(args) -> None:
    """--init loads (a readable mffcnn checkpoint) before any dataset is read or run folder made; whether its
    classes and people suit the dataset is checked once the dataset is loaded, still before training."""
    if getattr(args, "init", None):
        from mffcnn.checkpoint import load_checkpoint

        load_checkpoint(args.init)


def study_options(args, names=STUDY_ARGS):
    """The StudyOptions of a mode's arguments (add_training_args, add_run_args; `names`: those it has)."""
    from mffcnn.studies._run import StudyOptions

    check_init(args)
    return StudyOptions(**{n: getattr(args, n) for n in names}, verbose=not args.quiet, command=command_line())


def add_resume_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--resume", nargs="?", const="", metavar="RUN", help=f"finish an interrupted {what} (default: the latest)"
    )


def start_or_resume(args, mode: str, start, resume):
    """`start(dataset, root, dataset_options=…, options=…)`, or `resume(run)` with --resume: (run folder, result)."""
    from mffcnn.errors import MffcnnError

    if args.resume is not None:
        return resume(args.resume or None, project=args.project, verbose=not args.quiet)
    if args.dataset is None:
        raise MffcnnError(f"{mode} needs a dataset (e.g. mffcnn {mode} synthetic) or --resume")
    return start(args.dataset, args.root, dataset_options=dataset_options_from(args), options=study_options(args))


def add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", default="runs", help="where run folders go (runs/MODE/exp, exp2, …)")
    p.add_argument("--name", default="exp")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary table")


def command_line() -> str:
    return shlex.join(["mffcnn", *sys.argv[1:]])
