"""Train the model bundled with mffcnn (mffcnn/weights/default.safetensors) from datasets in their native layouts.

    python bench/train_default_model.py ckplus48:../shared/data/ckplus48 \\
        [jaffe:../shared/data/jaffe:augment=false] [sfew:../shared/data/sfew2:split=train] \\
        [--classes 6|7] [--eval-folds 10] [--init CHECKPOINT] [--cross jaffe:../shared/data/jaffe] \\
        [--out mffcnn/weights/default.safetensors] [--bench-out BENCHMARKS.md]

A dataset is NAME:PATH[:key=value,...]: NAME is any loader registered in mffcnn.data.DATASETS and the
options are its keyword options (`mffcnn cv --help` lists them). Adding a dataset to the bundled model
is therefore adding its spec to the command line, once its loader is registered.

What it does, in order:
1. loads every dataset, maps its class names onto ours (Angry → anger, …) and keeps the chosen classes:
   the 6 basic expressions, or 7 with neutral.
   With --init every model below starts from a pretrained checkpoint (e.g. FER+ Train alone, from
   bench/ferplus_sweep.py) and fine-tunes on the union: pretrain → fine-tune, the folds included;
2. estimates the accuracy of this recipe on people it has not seen: subject-independent folds (the
   honest protocol of `mffcnn cv`), all of them or the first --eval-max-folds. Folds are drawn over the
   datasets that know their people; a dataset without person ids (FER+, FER2013: every face its own
   subject) is in the training part of every fold and never tested, so the estimate is for lab faces of
   people the model has not seen, with everything else it would learn from;
3. trains the final model on everything;
4. measures how a Viola-Jones box frames a face compared with datasets that come cropped (CK+48) and
   stores the crop margin that makes predict's crops look like the training crops (see crop_calibration);
5. tests the final model on datasets it was not trained on (--cross), through predict's own pipeline
   (Viola-Jones, largest face, the same crop), and on held-out splits of aligned datasets (--valid, e.g.
   FER+ Valid's majority labels), per class;
6. saves a checkpoint whose info says what it was trained on, under which licences, and how it scored.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from jaffe_photos import jaffe_photos, largest_faces, per_class  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint  # noqa: E402
from mffcnn.data import load_dataset  # noqa: E402
from mffcnn.data.datasets import DatasetSpec, parse_options  # noqa: E402
from mffcnn.data.face import PREDICT_DETECTOR, DetectorSettings, detect_faces  # noqa: E402
from mffcnn.data.faceset import FaceSet  # noqa: E402
from mffcnn.data.labels import BASIC6, EXPRESSIONS7, canonical, union  # noqa: E402
from mffcnn.errors import MffcnnError  # noqa: E402
from mffcnn.model import MFFCNNConfig  # noqa: E402
from mffcnn.runs import machine_info  # noqa: E402
from mffcnn.train.folds import make_folds, run_fold  # noqa: E402
from mffcnn.train.loop import Training, fit, predict_proba, source_class_weights, source_weights  # noqa: E402
from mffcnn.train.recipes import DEFAULT_RECIPE, RECIPES, epochs_for, get_recipe  # noqa: E402
from mffcnn.train.warm_start import check_people, initialiser, trained_on  # noqa: E402

# The terms under which each dataset may be used. The bundled weights are derived from them.
LICENCES = {
    "ckplus48": "CK+ (Lucey et al. 2010; Kanade et al. 2000): research use only, under the Cohn-Kanade "
    "database agreement; not for commercial use",
    "ckplus": "CK+ (Lucey et al. 2010; Kanade et al. 2000): research use only, under the Cohn-Kanade "
    "database agreement; not for commercial use",
    "jaffe": "JAFFE (Lyons et al. 1998): non-commercial scientific research only, under the JAFFE terms of use",
    "sfew": "SFEW 2.0 (Dhall et al. 2011/2015): research use only, under the SFEW/EmotiW end user licence agreement",
    "oulu": "Oulu-CASIA (Zhao et al. 2011): research use only, under its licence agreement",
    "fer2013": "FER2013 (Goodfellow et al. 2013): research use (Kaggle challenge terms)",
    "ferplus": "FER+ (Barsoum et al. 2016): labels MIT (Microsoft); its images are FER2013's, research use "
    "(Kaggle challenge terms)",
    "affectnet": "AffectNet (Mollahosseini et al. 2017), a public 96×96 cut of it: academic, non-commercial research "
    "use only, under AffectNet's terms of use",
}
NO_PERSON_IDS = {"ferplus", "fer2013", "affectnet"}  # every face its own subject: always trained on, never a test fold


def parse_spec(spec: str) -> tuple[str, str, dict]:
    """NAME:PATH[:key=value,...] → (name, path, options) (mffcnn.data.datasets.DatasetSpec.parse)."""
    if ":" not in spec:
        raise SystemExit(f"dataset {spec!r} is not NAME:PATH (e.g. ckplus48:../shared/data/ckplus48)")
    source = DatasetSpec.parse(spec)
    return source.dataset, source.root, source.options


def unite(sets: list[tuple[str, FaceSet]], classes: list[str]) -> tuple[FaceSet, list[dict]]:
    """One FaceSet of the chosen classes from several datasets (mffcnn.data.labels.union), and what each
    dataset gave to it."""
    united = union([fs for _, fs in sets], classes)
    parts = []
    for spec, fs in sets:
        names = [canonical(c) for c in fs.class_names]
        counts = np.bincount(fs.labels, minlength=len(names))
        kept = {c: int(n) for c, n in zip(names, counts) if c in classes}
        parts.append(
            {
                "spec": spec,
                "dataset": fs.name,
                "images": sum(kept.values()),
                "class_counts": kept,
                "left_out": {c: int(n) for c, n in zip(names, counts) if c not in classes},
                "detect_face": fs.preprocessing.detect_face,
                "licence": LICENCES.get(fs.name, "see the dataset's own terms"),
            }
        )
    empty = [c for c, n in united.class_counts().items() if n == 0]
    if empty:
        raise SystemExit(f"no training images of {', '.join(empty)}: choose datasets that have them, or --classes 6")
    return united, parts


def crop_calibration(faces: np.ndarray, detector: DetectorSettings, *, n: int = 200, seed: int = 0) -> dict:
    """How large a Viola-Jones box is compared with a dataset's own face crop.

    Each crop (already cut around the face by the dataset, e.g. CK+48) is enlarged 4× and padded by its own
    side on every edge, so the detector sees a face in a scene; the median of box side / crop side then says
    how much margin predict must add to a detector box to frame a face as the crops did:
    margin = (1 / ratio − 1) / 2 (0 when the box is as large as the crop or larger)."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(faces), size=min(n, len(faces)), replace=False)
    ratios, offsets = [], []
    for face in faces[pick]:
        side = face.shape[0] * 4
        big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        scene = cv2.copyMakeBorder(big, side, side, side, side, cv2.BORDER_REPLICATE)
        boxes = detect_faces(scene, replace(detector, min_size=0.15, max_side=max(scene.shape)))
        if boxes:
            b = boxes[0]
            ratios.append(b.w / side)
            offsets.append(((b.x + b.w / 2 - 1.5 * side) / side, (b.y + b.h / 2 - 1.5 * side) / side))
    if not ratios:
        return {"detected": 0, "tried": len(pick), "margin": 0.0}
    ratio = float(np.median(ratios))
    return {
        "detected": len(ratios),
        "tried": len(pick),
        "box_over_crop": round(ratio, 3),
        "centre_offset": [round(float(v), 3) for v in np.median(offsets, axis=0)],
        "margin": round(max(0.0, (1 / ratio - 1) / 2), 3),
    }


def cross_eval(model_path: Path, spec: str) -> dict:
    """Accuracy of a saved model on a dataset it did not see, through predict's pipeline."""
    from mffcnn.predict import load_model

    name, path, _ = parse_spec(spec)
    if name != "jaffe":
        raise SystemExit(f"--cross supports jaffe for now (got {name!r})")
    model = load_model(model_path)
    photos = jaffe_photos(path, neutral="neutral" in model.class_names)
    crops, _, found = largest_faces([p for p, _, _ in photos], model.preprocessing)
    probs = model.probabilities(crops)
    y_true = [label for _, label, _ in photos]
    out = {"dataset": "jaffe", "photos": len(photos), "faces_found": int(found.sum())}
    # A photo without a detected face counts as wrong: a user would get no answer.
    for tag, classes in (("6 classes", BASIC6), ("all classes", model.class_names)):
        cols = [model.class_names.index(c) for c in classes]
        rows = [i for i, t in enumerate(y_true) if t in classes]
        pred = np.array(classes)[probs[rows][:, cols].argmax(1)]
        pred = np.where(found[rows], pred, "")
        truth = [y_true[i] for i in rows]
        out[tag] = {
            "n": len(rows),
            "accuracy": float(np.mean(pred == np.array(truth))),
            "per_class": per_class(truth, pred, classes),
        }
        if classes == model.class_names:
            break
    return out


def valid_eval(model, spec: str) -> dict:
    """Accuracy and per-class accuracy on a held-out split of an aligned dataset (e.g. FER+ Valid)."""
    from mffcnn.report.metrics import confusion_counts, per_class_accuracy

    name, path, options = parse_spec(spec)
    fs = load_dataset(name, path, **options)
    pred = predict_proba(model, fs.preprocessing.faces(fs.images)).argmax(1)
    counts = confusion_counts(fs.labels, pred, len(fs.class_names))
    return {
        "spec": spec,
        "dataset": fs.name,
        "n": len(fs),
        "accuracy": float((pred == fs.labels).mean()),
        "per_class": {c: float(a) for c, a in zip(fs.class_names, per_class_accuracy(counts))},
        "confusion_matrix": counts.tolist(),
        "class_names": fs.class_names,
    }


def lab_folds(data: FaceSet, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Subject-independent folds over the faces of datasets with person ids; the others (NO_PERSON_IDS) join
    the training part of every fold."""
    lab = np.array([s.split("/", 1)[0] not in NO_PERSON_IDS for s in data.subjects])
    always = np.flatnonzero(~lab)
    lab_idx = np.flatnonzero(lab)
    sub = FaceSet(
        name=data.name,
        class_names=data.class_names,
        images=data.images[lab_idx],
        labels=data.labels[lab_idx],
        subjects=data.subjects[lab_idx],
        groups=data.groups[lab_idx],
        paths=[data.paths[i] for i in lab_idx],
        preprocessing=data.preprocessing,
    )
    return [(np.concatenate([always, lab_idx[tr]]), lab_idx[te]) for tr, te in make_folds(sub, "subject", k, seed)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", nargs="+", metavar="NAME:PATH[:key=value,...]")
    ap.add_argument("--classes", type=int, choices=[6, 7], default=6, help="6 basic expressions, or 7 with neutral")
    ap.add_argument("--recipe", choices=list(RECIPES), default=DEFAULT_RECIPE)
    ap.add_argument("--set", default="", dest="recipe_set", help="recipe changes as key=value,… (default: none)")
    ap.add_argument("--epochs", type=int, help="default: the recipe's for the first dataset (25 for CK+)")
    ap.add_argument(
        "--init",
        metavar="CHECKPOINT",
        help="start every model (each fold's and the final one) from this checkpoint's weights: pretrain → "
        "fine-tune (mffcnn.train.warm_start); it must not have been trained on the lab sets' people",
    )
    ap.add_argument(
        "--source-power",
        type=float,
        default=0.0,
        help="draw each dataset's faces in proportion to (its size)^-P per face: 0 as they come, 1 every dataset "
        "the same share, 0.5 shares ∝ √size (the FER+ and AffectNet share stops swamping the lab sets)",
    )
    ap.add_argument(
        "--class-power",
        type=float,
        default=0.0,
        help="within each dataset, draw each face in proportion to (its class's count there)^-P: 0 as they come, "
        "1 every class of a dataset alike (mffcnn.train.loop.source_class_weights); multiplies --source-power",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-folds", type=int, default=10, help="subject-independent folds for the estimate (0: none)")
    ap.add_argument("--eval-max-folds", type=int, help="run only the first N folds (a quicker estimate)")
    ap.add_argument(
        "--cross",
        action="append",
        default=[],
        metavar="NAME:PATH",
        help="also test on a dataset not trained on, through predict (jaffe:PATH)",
    )
    ap.add_argument(
        "--valid",
        action="append",
        default=[],
        metavar="NAME:PATH[:key=value,...]",
        help="also test on a held-out split of an aligned dataset (ferplus:PATH:split=valid)",
    )
    ap.add_argument(
        "--detector",
        default="",
        help="changes to the detector settings stored for predict (mffcnn.data.face.PREDICT_DETECTOR), key=value,…",
    )
    ap.add_argument("--state", help="save the final model's training state here after every epoch, and resume from it")
    ap.add_argument("--out", default="mffcnn/weights/default.safetensors")
    ap.add_argument("--bench-out", help="also write this run's section of BENCHMARKS.md")
    ap.add_argument("--section", default="default_model", help="the section's name (a later stage: another one)")
    ap.add_argument("--title", default="Bundled model", help="the section's title")
    args = ap.parse_args()

    if (args.source_power or args.class_power) and args.eval_folds:
        raise SystemExit(
            "--source-power and --class-power are applied to the final model only, not to the estimate's folds: "
            "add --eval-folds 0"
        )
    start = time.perf_counter()
    classes = BASIC6 if args.classes == 6 else EXPRESSIONS7
    sets = []
    for spec in args.datasets:
        name, path, options = parse_spec(spec)
        fs = load_dataset(name, path, **options)
        print(f"{spec}: {len(fs)} faces\n{fs.summary.table()}", file=sys.stderr)
        sets.append((spec, fs))
    trained = {fs.name for _, fs in sets}
    for spec in args.cross:  # checked before hours of training, not after
        if parse_spec(spec)[0] in trained:
            raise SystemExit(
                f"--cross {spec}: the model is trained on {parse_spec(spec)[0]}; a cross-dataset "
                "test needs a dataset it has not seen"
            )
    data, parts = unite(sets, classes)
    for p in parts:
        if p["left_out"]:
            print(f"{p['spec']}: left out (not in the {len(classes)} classes): {p['left_out']}", file=sys.stderr)
    print(f"training set: {len(data)} faces, {dict(zip(classes, np.bincount(data.labels).tolist()))}", file=sys.stderr)

    recipe = get_recipe(args.recipe).replace(**parse_options(args.recipe_set))
    recipe = replace(recipe, name=f"{recipe.name}+{args.recipe_set}" if args.recipe_set else recipe.name)
    epochs = args.epochs or epochs_for(recipe, data.name.split("+")[0])
    cfg = recipe.model_config(MFFCNNConfig(num_classes=len(classes)))
    x = data.preprocessing.faces(data.images)
    y = torch.from_numpy(data.training_targets())  # FER+'s vote distributions where it is in the union
    sizes = [p["images"] for p in parts]
    weights = source_weights(sizes, args.source_power)
    by_class = source_class_weights(y, sizes, args.class_power)
    if by_class is not None:
        weights = by_class if weights is None else weights * by_class
    init, warm, pretrained_on = None, None, []
    if args.init:  # every lab set's people are tested in the folds: the checkpoint must not have seen them
        pretrained = load_checkpoint(args.init)
        for _, fs in sets if args.eval_folds else []:  # no folds, no test faces: nothing to keep apart
            if fs.name not in NO_PERSON_IDS:
                check_people(pretrained, fs.name, source=args.init)
        pretrained_on = sorted(trained_on(pretrained.info))
        init, warm = initialiser(args.init, cfg, classes)
        print(warm.line(), file=sys.stderr)

    estimate = None
    if args.eval_folds:
        folds = lab_folds(data, args.eval_folds, args.seed)[: args.eval_max_folds or None]
        preds, truth, accs = [], [], []
        for k, (tr, te) in enumerate(folds, start=1):
            training = Training(model_config=cfg, recipe=recipe, epochs=epochs, seed=args.seed)
            r = run_fold(data, x, k, tr, te, training, init=init)
            accs.append(r.accuracy)
            preds += r.y_pred
            truth += data.labels[te].tolist()
            print(
                f"subject-independent fold {k}/{args.eval_folds}: {100 * r.accuracy:.2f} % "
                f"({r.n_test} faces, {r.seconds:.0f} s)",
                file=sys.stderr,
            )
        names = np.array(classes)
        estimate = {
            "protocol": "subject-independent",
            "folds_run": len(folds),
            "folds": args.eval_folds,
            "mean_accuracy": float(np.mean(accs)),
            "std_accuracy": float(np.std(accs)),
            "fold_accuracies": [round(a, 4) for a in accs],
            "per_class": per_class(names[truth], names[preds], classes),
        }

    t0 = time.perf_counter()
    training = Training(model_config=cfg, recipe=recipe, epochs=epochs, seed=args.seed)
    model = fit(
        x,
        y,
        training,
        init=init,
        on_epoch=lambda e, loss: print(f"epoch {e + 1}/{epochs}: loss {loss:.4f}", file=sys.stderr, flush=True),
        sample_weights=weights,
        state_path=args.state,
    )
    train_seconds = time.perf_counter() - t0
    train_acc = float((predict_proba(model, x).argmax(1) == data.labels).mean())
    valids = [valid_eval(model, spec) for spec in args.valid]

    detector = replace(PREDICT_DETECTOR, **parse_options(args.detector))  # predict's, unless told otherwise
    precropped = np.concatenate(
        [fs.images for _, fs in sets if not fs.preprocessing.detect_face] or [np.zeros((0, 60, 60), np.uint8)]
    )
    detected = [fs.preprocessing for _, fs in sets if fs.preprocessing.detect_face]
    if detected:  # datasets cropped by our own detector: predict crops as they were
        calibration = {"from": "the detector-cropped datasets' own margin", "margin": detected[0].margin}
    else:
        calibration = crop_calibration(precropped, detector, seed=args.seed)
    preprocessing = replace(data.preprocessing, margin=calibration["margin"], detector=detector)

    info = {
        "dataset": data.name,
        "trained_on": parts,
        "n_images": len(data),
        "class_counts": data.class_counts(),
        "recipe": recipe.to_dict(),
        "epochs": epochs,
        "source_power": args.source_power,
        "class_power": args.class_power,
        "seed": args.seed,
        "init": warm.to_dict() if warm else None,
        "pretrained_on": pretrained_on,
        "scores": {"train_accuracy": train_acc, "subject_cv": estimate, "held_out": valids},
        "crop_calibration": calibration,
        "licence": "The weights are derived from the datasets listed in trained_on, whose terms allow research "
        "use only: " + "; ".join(sorted({p["licence"] for p in parts})) + ". mffcnn's code is MIT.",
        "seconds": round(train_seconds, 1),
        "date": datetime.date.today().isoformat(),
        "command": shlex.join(["python", *sys.argv]),
        "machine": machine_info(),
    }
    out = Path(args.out)
    save_checkpoint(out, Checkpoint(model=model, class_names=classes, preprocessing=preprocessing, info=info))
    crosses = [cross_eval(out, spec) for spec in args.cross]
    if crosses:
        info["scores"]["cross_dataset"] = crosses
        save_checkpoint(out, Checkpoint(model=model, class_names=classes, preprocessing=preprocessing, info=info))

    lines = [
        f"{time.perf_counter() - start:.0f} s in all.",
        "",
        "- trained on: "
        + "; ".join(f"{p['spec'].split(':')[0]} ({p['images']} faces)" for p in parts)
        + f"; classes: {', '.join(classes)}; recipe {recipe.name}, {epochs} epochs, seed {args.seed}"
        + (f"; each dataset's faces drawn ∝ size^-{args.source_power}" if args.source_power else "")
        + (f"; within each dataset, ∝ its class's count^-{args.class_power}" if args.class_power else "")
        + (f"; started from {args.init} ({warm.line().split(': ', 1)[1]})" if warm else ""),
        f"- training accuracy {100 * train_acc:.2f} %; file {out} ({out.stat().st_size / 1e6:.1f} MB)",
        f"- crop: {calibration}",
    ]
    if estimate:
        lines.append(
            f"- accuracy on unseen people of the lab sets ({estimate['folds_run']} of {estimate['folds']} "
            f"subject-independent folds; datasets without person ids in every training part): "
            f"{100 * estimate['mean_accuracy']:.2f} % "
            f"± {100 * estimate['std_accuracy']:.2f}; per class: "
            + ", ".join(f"{c} {100 * a:.1f}" for c, a in estimate["per_class"].items())
        )
    for v in valids:
        lines.append(
            f"- on {v['spec'].split(':')[0]} held out ({v['n']} faces, not trained on): "
            f"{100 * v['accuracy']:.2f} %; per class: "
            + ", ".join(f"{c} {100 * a:.1f}" for c, a in v["per_class"].items())
        )
    for c in crosses:
        for tag in ("6 classes", "all classes"):
            if tag in c:
                r = c[tag]
                lines.append(
                    f"- on {c['dataset']} (not trained on; {c['faces_found']}/{c['photos']} faces found by "
                    f"Viola-Jones), {tag}: {100 * r['accuracy']:.2f} % of {r['n']}; per class: "
                    + ", ".join(f"{k} {100 * v:.1f}" for k, v in r["per_class"].items())
                )
    if args.bench_out:
        write_section(args.bench_out, args.section, args.title, lines)
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    try:
        main()
    except MffcnnError as e:  # a dataset that cannot be read or united: one line, no traceback
        sys.exit(f"error: {e}")
