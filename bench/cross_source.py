"""The cross-source validation suite: one table of checkpoints × sources, and each checkpoint's worst source.

    python bench/cross_source.py --data ../shared/data --model bundled=mffcnn/weights/default.safetensors \\
        --model many=runs/bench/many_sources/balanced-photo/model.safetensors [--tta] [--per-class] \\
        [--section cross_source] [--out BENCHMARKS.md]

For every checkpoint: accuracy and mean per-class accuracy on FER+ Valid, AffectNet Valid, SFEW 2.0 Val, CK+48 and
JAFFE (bench/sources.py says what each is and how a 7-class model is scored on a 6-class set), and the worst
source: the lowest mean per-class accuracy among the sources the checkpoint was not trained on (its info says what
it was trained on; a source it was trained on is shown in italics and left out of the worst). Each source's
faces are cut the way the checkpoint's preprocessing cuts them: a model trained on aligned crops (align "eyes",
BlazeFace) is scored on aligned crops of every source, one trained on Viola-Jones boxes on those, so
`--crops box` against `--crops eyes` scores one model on both. `--tta` adds a row per checkpoint with
horizontal-flip test-time averaging (the mean of the probabilities of a face and its mirror image).
`--model NAME@eyes=CHECKPOINT` (or `@box`) sets the crops of one model: the same checkpoint twice, once on each,
is one model on aligned and on unaligned crops.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from markdown import write_section  # noqa: E402
from sources import SOURCES, data_roots, load_sources, score, worst  # noqa: E402

from mffcnn.checkpoint import load_checkpoint  # noqa: E402
from mffcnn.data.datasets import DatasetSpec  # noqa: E402
from mffcnn.data.labels import EXPRESSIONS7  # noqa: E402
from mffcnn.train.loop import predict_proba  # noqa: E402
from mffcnn.train.warm_start import trained_on  # noqa: E402

# Which sources a checkpoint trained on a dataset has seen (a split it trained on, or the whole lab set).
SEEN_BY = {
    "ferplus": {"ferplus_valid"},  # only when its valid split is among the training data (see seen())
    "affectnet": {"affectnet_valid"},
    "sfew": {"sfew_val"},
    "ckplus48": {"ckplus48"},
    "ckplus": {"ckplus48"},
    "jaffe": {"jaffe"},
}


def seen(info: dict) -> set[str]:
    """The sources a checkpoint was trained on, from its info: a lab set whole; FER+, AffectNet and SFEW only
    when the held-out split itself was trained on (split valid/val/all)."""
    out: set[str] = set()
    parts = [p for p in info.get("trained_on") or [] if isinstance(p, dict)]
    for p in parts:
        name = str(p.get("dataset", "")).split(":")[0]
        options = DatasetSpec.parse(p["spec"]).options if p.get("spec") else {}
        split = str(p.get("split") or options.get("split") or "train")
        if name in ("ferplus", "affectnet", "sfew") and split not in ("valid", "val", "all"):
            continue
        out |= SEEN_BY.get(name, set())
    if not parts:  # an older checkpoint that names its datasets only: count every split as seen
        for name in trained_on(info):
            out |= SEEN_BY.get(name, set())
    return out


def crop_options(preprocessing, crops: str | None) -> dict:
    """The face options that cut every source as the checkpoint cuts faces (or as --crops says)."""
    align = crops or preprocessing.align
    if align == "eyes":
        return {"face_detector": "blazeface", "align": "eyes"}
    return {}


def probabilities(ckpt, fs, tta: bool) -> np.ndarray:
    """(n, 7) probabilities in EXPRESSIONS7's order (classes the model lacks get 0)."""
    faces = fs.preprocessing.faces(fs.images)
    p = predict_proba(ckpt.model, faces)
    if tta:
        p = (p + predict_proba(ckpt.model, fs.preprocessing.faces(fs.images[:, :, ::-1]))) / 2
    out = np.zeros((len(fs), len(EXPRESSIONS7)), np.float32)
    for i, c in enumerate(ckpt.class_names):
        if c in EXPRESSIONS7:
            out[:, EXPRESSIONS7.index(c)] = p[:, i]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a folder laid out as ../shared/data")
    ap.add_argument(
        "--model",
        action="append",
        required=True,
        help="NAME=CHECKPOINT (repeat it); NAME@box=… or NAME@eyes=… scores that model on those crops",
    )
    ap.add_argument("--crops", choices=["box", "eyes"], help="cut every source this way (default: as each model does)")
    ap.add_argument("--tta", action="store_true", help="also score with horizontal-flip test-time averaging")
    ap.add_argument("--per-class", action="store_true", help="add every class's recall per source")
    ap.add_argument("--section", default="cross_source")
    ap.add_argument("--title", default="The cross-source suite: every source, and the worst")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    models = []
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep:
            raise SystemExit(f"--model {spec!r} is not NAME=CHECKPOINT")
        name, _, crops = name.partition("@")  # NAME@box or NAME@eyes: this model's crops, whatever --crops says
        if crops not in ("", "box", "eyes"):
            raise SystemExit(f"--model {spec!r}: the crops after @ are box or eyes")
        models.append((name, path, load_checkpoint(path), crops or args.crops))
    roots = data_roots(args.data)
    cache: dict[str, dict] = {}
    cols = [k for k in SOURCES if SOURCES[k].dataset in roots]
    rows, per_class_rows = [], []
    for name, _path, ckpt, crops in models:
        options = crop_options(ckpt.preprocessing, crops)
        key = repr(sorted(options.items()))
        if key not in cache:
            cache[key] = load_sources(roots, cols, face_options=options)
        suite = cache[key]
        trained = seen(ckpt.info)
        for tta in [False, True] if args.tta else [False]:
            scores = {k: score(probabilities(ckpt, fs, tta), fs) for k, fs in suite.items()}
            w = worst(scores, trained)
            label = f"`{name}`" + (" + flip TTA" if tta else "")
            crop = "aligned (BlazeFace, eyes)" if options else "box"

            def cell(k, scores=scores, trained=trained):
                s = f"{100 * scores[k]['accuracy']:.1f} / {100 * scores[k]['mean_per_class']:.1f}"
                return f"*{s}*" if k in trained else s

            worst_cell = f"{SOURCES[w[0]].what} **{100 * w[1]:.1f}**" if w else "—"
            rows.append(f"| {label} | {crop} | " + " | ".join(cell(k) for k in cols) + f" | {worst_cell} |")
            if args.per_class:
                for k in cols:
                    pc = scores[k]["per_class"]
                    per_class_rows.append(
                        f"| {label} | {SOURCES[k].what} | "
                        + " | ".join(f"{100 * pc[c]:.1f}" if c in pc else "—" for c in EXPRESSIONS7)
                        + f" | {min(pc.values()) * 100:.1f} |"
                    )
            print(rows[-1], flush=True)
    lines = [
        "Each cell: accuracy / mean per-class accuracy (%), on "
        + ", ".join(f"{SOURCES[k].what} ({len(next(iter(cache.values()))[k]):,} faces)" for k in cols)
        + ". *Italics*: a source the model was trained on (left out of its worst source). On CK+48 (no neutral) "
        "the argmax runs over its 6 classes. Models:",
        "",
        *[f"- `{name}`: `{path}`" for name, path, *_ in models],
        "",
        "| model | crops | " + " | ".join(SOURCES[k].what for k in cols) + " | worst source (mean per-class) |",
        "|---|---|" + "---:|" * len(cols) + "---|",
        *rows,
    ]
    if per_class_rows:
        lines += [
            "",
            "Recall per class (%):",
            "",
            "| model | source | " + " | ".join(EXPRESSIONS7) + " | lowest |",
            "|---|---|" + "---:|" * (len(EXPRESSIONS7) + 1),
            *per_class_rows,
        ]
    write_section(args.out, args.section, args.title, lines)


if __name__ == "__main__":
    main()
