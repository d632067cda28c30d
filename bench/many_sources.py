"""A recipe for many sources: MFF-CNN trained on FER+ Train ∪ the AffectNet cut's train split, chosen by the
worst source of the cross-source suite (bench/sources.py), with a learning curve.

    python bench/many_sources.py --data ../shared/data --variant balanced [--epochs 60] [--eval-every 3] \\
        [--threads 1] [--project runs/bench/many_sources] [--report-only --variants a,b] [--out BENCHMARKS.md]

Every variant trains from scratch on the same faces: FER+ Train (the annotators' vote distributions as soft
targets) and AffectNet train (hard labels; `--affectnet-source affectnet` leaves its FFHQ additions out),
7 classes. It never sees AffectNet valid, SFEW, CK+48 or JAFFE, so every source of the suite is held out, the
lab sets as whole labs (leave-one-lab-out). Every --eval-every epochs the model is scored on each source and the
row is appended to PROJECT/VARIANT/curve.json (the learning curve); the training state is saved after every
epoch, so a run that is stopped continues where it stopped when started again with the same arguments (and
--epochs may be raised to carry a finished curve further: the step schedule of eq. 6 has no end to reach).

What varies (VARIANTS): how the faces are drawn (as they come, or every source the same share and classes
balanced by frequency^-0.5), photometric jitter (gamma, blur, noise, low resolution: one source is grey
48×48, the others not), a class-weighted loss, a head-turn warp (none of the training sets has many turned
faces). The choice between variants is made on the worst source's mean per-class accuracy, never on one set's
accuracy. With --report-only the section is written from the saved curves as they are, training nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from markdown import write_section  # noqa: E402
from sources import SOURCES, data_roots, load_sources, score, worst  # noqa: E402

from mffcnn.checkpoint import Checkpoint, save_checkpoint  # noqa: E402
from mffcnn.data import load_dataset  # noqa: E402
from mffcnn.data.labels import EXPRESSIONS7, union  # noqa: E402
from mffcnn.data.preprocess import for_predict  # noqa: E402
from mffcnn.model import MFFCNN, MFFCNNConfig  # noqa: E402
from mffcnn.runs import code_version, machine_info, read_json, write_json  # noqa: E402
from mffcnn.train.loop import Training, fit, predict_proba, source_weights  # noqa: E402
from mffcnn.train.recipes import get_recipe  # noqa: E402

PHOTO = dict(gamma=0.5, blur=1.2, noise=6.0, lowres=0.5)
VARIANTS = {  # name → (changes to the default recipe `augmented`, source-balanced sampling, what it tests)
    "plain": ({}, False, "the default recipe on the union as it comes (FER+ is 65 % of it)"),
    "plain-yaw": (
        dict(yaw=0.3),
        False,
        "as plain, and the head-turn warp (the face's middle moved up to 0.3 half-widths sideways, one side "
        "squeezed and shortened)",
    ),
    "balanced": (
        dict(sampling_power=0.5),
        True,
        "every source the same share of each epoch, classes drawn by frequency^-0.5",
    ),
    "sources-photo": (
        dict(PHOTO),
        True,
        "every source the same share, classes as they come, and photometric jitter: between plain and "
        "balanced-photo, whose stage-1 model gave the bundled recipe AffectNet's neutral faces but cost it sadness "
        "and disgust",
    ),
    "balanced-photo": (
        dict(sampling_power=0.5, **PHOTO),
        True,
        "every source the same share, classes drawn by frequency^-0.5, and photometric jitter (gamma ±50 %, "
        "blur σ ≤ 1.2 px, noise σ ≤ 6, down to half the side)",
    ),
    "balanced-photo-weights": (
        dict(sampling_power=0.5, class_weight_power=0.5, **PHOTO),
        True,
        "as balanced-photo, and the loss weighted by class frequency^-0.5 as well",
    ),
}


def training_set(roots: dict, affectnet_source: str):
    ferplus = load_dataset("ferplus", roots["ferplus"], split="train", labels="votes")
    affectnet = load_dataset("affectnet", roots["affectnet"], split="train", source=affectnet_source)
    train = union([ferplus, affectnet], list(EXPRESSIONS7), name="ferplus+affectnet")
    return train, {"ferplus": len(ferplus), "affectnet": len(affectnet)}


def curve_row(epoch: int, loss: float, model: MFFCNN, suite: dict, seconds: float) -> dict:
    scores = {name: score(predict_proba(model, fs.preprocessing.faces(fs.images)), fs) for name, fs in suite.items()}
    w = worst(scores)
    return {"epoch": epoch + 1, "loss": loss, "seconds": round(seconds, 1), "scores": scores, "worst": w}


def run(args, name: str) -> Path:
    changes, balanced, what = VARIANTS[name]
    recipe = get_recipe("augmented").replace(name=name, **changes)
    roots = data_roots(args.data)
    train, sizes = training_set(roots, args.affectnet_source)
    suite = load_sources(roots)
    out = Path(args.project) / name
    out.mkdir(parents=True, exist_ok=True)
    curve_path = out / "curve.json"
    meta = {
        "variant": name,
        "what": what,
        "recipe": recipe.to_dict(),
        "source_balanced": balanced,
        "affectnet_source": args.affectnet_source,
        "seed": args.seed,
        "n_train": len(train),
        "train_counts": dict(sorted(sizes.items())),
    }
    curve = read_json(curve_path) if curve_path.exists() else {**meta, "rows": []}
    same = ("variant", "recipe", "source_balanced", "affectnet_source", "seed", "n_train")
    if any(curve.get(k) != meta[k] for k in same):
        raise SystemExit(f"{curve_path} was made with other settings; use another --project or delete it")
    done = {r["epoch"] for r in curve["rows"]}
    cfg = recipe.model_config(MFFCNNConfig(num_classes=len(EXPRESSIONS7)))
    model = MFFCNN(cfg)  # fit trains this very module, so the callback can score it
    training = Training(model_config=cfg, recipe=recipe, epochs=args.epochs, seed=args.seed)
    clock = {"start": time.perf_counter()}

    def on_epoch(epoch: int, loss: float) -> None:
        seconds = time.perf_counter() - clock["start"]
        print(f"{name} epoch {epoch + 1}/{args.epochs}: loss {loss:.4f} ({seconds:.0f} s)", file=sys.stderr, flush=True)
        if (epoch + 1) % args.eval_every and epoch + 1 != args.epochs or epoch + 1 in done:
            return
        row = curve_row(epoch, loss, model, suite, seconds)
        curve["rows"].append(row)
        curve["code"], curve["machine"] = code_version(), machine_info()
        write_json(curve_path, curve)
        info = {
            "trained_on": [
                {"dataset": "ferplus", "split": "train", "labels": "votes"},
                {"dataset": "affectnet", "split": "train", "source": args.affectnet_source},
            ],
            "recipe": recipe.to_dict(),
            "epochs": epoch + 1,
            "seed": args.seed,
            "n_images": len(train),
            "licence": "FER+ labels MIT (Microsoft), FER2013 images research use; AffectNet academic use only",
            "command": "python bench/many_sources.py",
        }
        save_checkpoint(
            out / "model.safetensors",
            Checkpoint(
                model=model, class_names=list(EXPRESSIONS7), preprocessing=for_predict(train.preprocessing), info=info
            ),
        )
        w = row["worst"]
        print(
            f"{name} epoch {epoch + 1}: "
            + ", ".join(f"{k} {100 * v['mean_per_class']:.1f}" for k, v in row["scores"].items())
            + f"; worst {w[0]} {100 * w[1]:.1f}",
            file=sys.stderr,
            flush=True,
        )
        clock["start"] = time.perf_counter()

    fit(
        train.preprocessing.faces(train.images),
        torch.from_numpy(train.training_targets()),
        training,
        state_path=out / "state.pt",
        on_epoch=on_epoch,
        init=model,
        sample_weights=source_weights(list(sizes.values()), 1.0 if balanced else 0.0),
    )
    return curve_path


def per_source_curve(name: str, rows: list[dict], cols: list[str]) -> list[str]:
    """One variant's learning curve on every source: epoch × source, mean per-class accuracy %."""
    return [
        "",
        f"`{name}`, mean per-class accuracy % of each held-out source by epoch:",
        "",
        "| epoch | " + " | ".join(SOURCES[k].what for k in cols) + " |",
        "|---:|" + "---:|" * len(cols),
        *(
            f"| {r['epoch']} | "
            + " | ".join(f"{100 * r['scores'][k]['mean_per_class']:.1f}" if k in r["scores"] else "—" for k in cols)
            + " |"
            for r in rows
        ),
    ]


def report(args, names: list[str]) -> None:
    rows, curves, tables = [], [], []
    cols = list(SOURCES)
    for name in names:
        path = Path(args.project) / name / "curve.json"
        if not path.exists():
            continue
        c = read_json(path)
        if not c["rows"]:
            continue
        best = max(c["rows"], key=lambda r: r["worst"][1])
        last = c["rows"][-1]
        for label, r in (("best", best), ("last", last)):
            if label == "last" and r is best:
                continue
            s = r["scores"]
            rows.append(
                f"| `{name}` | {VARIANTS[name][2] if name in VARIANTS else c['what']} | {label}: {r['epoch']} | "
                + " | ".join(
                    f"{100 * s[k]['accuracy']:.1f} / {100 * s[k]['mean_per_class']:.1f}" if k in s else "—"
                    for k in cols
                )
                + f" | {SOURCES[r['worst'][0]].what} **{100 * r['worst'][1]:.1f}** |"
            )
        curves.append(
            f"- `{name}` (code `{c.get('code', '?')}`), worst source's mean per-class % by epoch: "
            + ", ".join(f"{r['epoch']}: {100 * r['worst'][1]:.1f}" for r in c["rows"])
        )
        seconds = [r["seconds"] / args.eval_every for r in c["rows"][1:]]
        if seconds:
            curves[-1] += f" (about {np.median(seconds):.0f} s per epoch)"
        tables.append(per_source_curve(name, c["rows"], cols))
    write_section(
        args.out,
        "many_sources",
        "A recipe for many sources: FER+ ∪ AffectNet, chosen by the worst source",
        [
            "Trained from scratch on FER+ Train (vote distributions) ∪ AffectNet train "
            f"(source `{args.affectnet_source}`), 7 classes, seed {args.seed}; every source below is held out "
            "(the lab sets as whole labs). Each cell: accuracy / mean per-class accuracy, %; on CK+48 (no neutral) "
            "the argmax runs over its 6 classes. `best` is the evaluated epoch with the highest worst-source mean "
            "per-class accuracy, `last` the latest one. The variants differ from the default recipe `augmented` "
            "as the second column says.",
            "",
            "| variant | what changes | epoch | " + " | ".join(SOURCES[k].what for k in cols) + " | worst source |",
            "|---|---|---|" + "---:|" * len(cols) + "---|",
            *rows,
            "",
            "Learning curves (bench/many_sources.py evaluates every few epochs):",
            "",
            *curves,
            *(line for t in tables for line in t),
        ],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a folder laid out as ../shared/data (ferplus/, affectnet/, …)")
    ap.add_argument("--variant", choices=list(VARIANTS), help="train this variant (resumes its saved state)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="the rows of the section")
    ap.add_argument("--affectnet-source", choices=["all", "affectnet"], default="all")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--eval-every", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, help="torch threads (two runs side by side: 1 each)")
    ap.add_argument("--project", default="runs/bench/many_sources")
    ap.add_argument("--report-only", action="store_true", help="write the section from the saved curves")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    if args.epochs < 1 or args.eval_every < 1:
        raise SystemExit("--epochs and --eval-every must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.variant and not args.report_only:
        run(args, args.variant)
    report(args, args.variants.split(","))


if __name__ == "__main__":
    main()
