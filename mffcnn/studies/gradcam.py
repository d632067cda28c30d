"""`mffcnn gradcam`: Grad-CAM figures (Fig. 8) of a checkpoint, for image files or for faces of a dataset.

The maps are computed by mffcnn.gradcam and drawn by mffcnn.report.gradcam; this runs them, warns about dead
branches, and writes runs/gradcam/expN/ (figures, heatmaps.npz, options.json, results.json).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from difflib import get_close_matches
from pathlib import Path

import numpy as np

from mffcnn.checkpoint import load_checkpoint
from mffcnn.data import load_dataset
from mffcnn.data.face import NoFaceError
from mffcnn.data.files import files_under
from mffcnn.data.images import ImageError, is_image_file, read_grey
from mffcnn.errors import MffcnnError, warn
from mffcnn.gradcam import MAPS, SCORES, explain
from mffcnn.report.gradcam import ROWS_PER_FIGURE, STYLES, plot_gradcam, plot_patches
from mffcnn.runs import machine_info, write_json
from mffcnn.studies._run import StudyOptions, new_run


def _class_index(name_or_index: str | int, class_names: list[str]) -> int:
    if isinstance(name_or_index, int) or str(name_or_index).isdigit():
        i = int(name_or_index)
        if not 0 <= i < len(class_names):
            raise MffcnnError(f"target class {i} out of range; the model has {len(class_names)} classes")
        return i
    if name_or_index not in class_names:
        close = get_close_matches(str(name_or_index), class_names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MffcnnError(f"unknown target class {name_or_index!r}{hint}; the model has {', '.join(class_names)}")
    return class_names.index(name_or_index)


def _faces_from_files(paths: Sequence[str | Path], preprocessing) -> tuple[list[np.ndarray], list[str], int]:
    """Crop every image (files, or image files inside folders) as in training; warn and skip the rest."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [f for f in files_under(p) if is_image_file(f)]  # says what it cannot list
        elif p.exists():
            files.append(p)
        else:
            warn(f"{p}: no such file; skipped")
    faces, sources, skipped = [], [], len([p for p in map(Path, paths) if not p.exists()])
    for f in files:
        try:
            faces.append(preprocessing.crop(read_grey(f)))
            sources.append(str(f))
        except NoFaceError:
            warn(f"{f}: no face found; skipped")
            skipped += 1
        except ImageError as e:
            warn(f"{f}: {e}; skipped")
            skipped += 1
    return faces, sources, skipped


def _faces_from_dataset(
    dataset: str,
    root,
    dataset_options: dict | None,
    ckpt,
    *,
    per_class: bool,
    indices: Sequence[int] | None,
    seed: int,
    verbose: bool,
):
    fs = load_dataset(dataset, root, preprocessing=ckpt.preprocessing, **(dataset_options or {}))
    if verbose:
        print(fs.summary.table(), file=sys.stderr)
    ckpt.require_classes(fs.class_names)
    if indices:
        bad = [i for i in indices if not 0 <= i < len(fs)]
        if bad:
            raise MffcnnError(f"--index {bad[0]} out of range; {fs.name} has {len(fs)} images (0..{len(fs) - 1})")
        chosen = list(indices)
    else:  # one random face per class, as the paper shows "one random sample"; the seed makes it repeatable
        rng = np.random.default_rng(seed)
        chosen = [int(rng.choice(np.flatnonzero(fs.labels == c))) for c in range(len(fs.class_names))]
    labels = [ckpt.class_names.index(fs.class_names[fs.labels[i]]) for i in chosen]
    return [fs.images[i] for i in chosen], [fs.paths[i] for i in chosen], labels, fs


def gradcam(
    checkpoint: str | Path,
    images: Sequence[str | Path] = (),
    *,
    dataset: str | None = None,
    root: str | Path | None = None,
    dataset_options: dict | None = None,
    per_class: bool = False,
    indices: Sequence[int] | None = None,
    target: str | int | None = None,
    score: str = "logit",
    style: str = "overlay",
    options: StudyOptions | None = None,
    **option_values,
) -> tuple[Path, dict]:
    """Grad-CAM figures (Fig. 8) of a checkpoint for image files, or for faces of a dataset
    (one random face per class by default — options.seed chooses them — or the given indices). options, or the
    same names as keywords: StudyOptions (seed, project, name, verbose, command). Writes runs/gradcam/expN/."""
    options = StudyOptions.of(options, **option_values)
    seed, project, name, verbose, command = (
        options.seed,
        options.project,
        options.name,
        options.verbose,
        options.command,
    )
    from mffcnn import __version__

    if style not in STYLES:
        raise MffcnnError(f"unknown style {style!r}; choose from {', '.join(STYLES)}")
    if score not in SCORES:
        raise MffcnnError(f"unknown score {score!r}; choose from {', '.join(SCORES)}")
    if (per_class or indices) and dataset is None:
        raise MffcnnError("--per-class and --index choose faces of a --dataset")
    if not images and dataset is None:
        raise MffcnnError("gradcam needs image files or --dataset NAME [ROOT]")
    if images and dataset is not None:
        raise MffcnnError("give image files or --dataset, not both")
    if per_class and indices:
        raise MffcnnError("--per-class and --index exclude each other")
    ckpt = load_checkpoint(checkpoint)
    target_index = None if target is None else _class_index(target, ckpt.class_names)
    skipped = 0
    if dataset is not None:
        faces, sources, labels, fs = _faces_from_dataset(
            dataset, root, dataset_options, ckpt, per_class=per_class, indices=indices, seed=seed, verbose=verbose
        )
        data = {"dataset": fs.name, "synthetic": fs.synthetic}
    else:
        faces, sources, skipped = _faces_from_files(images, ckpt.preprocessing)
        labels, data = None, {}
        if not faces:
            raise MffcnnError(f"none of the {len(images)} input(s) gave a face")
    results = explain(
        ckpt.model,
        np.stack(faces),
        preprocessing=ckpt.preprocessing,
        labels=labels,
        sources=sources,
        target=target_index,
        score=score,
    )
    for layer, where in (
        ("patch", "the Patch Branch"),
        ("high", "the Image Branch (high-level)"),
        ("mid", "the Image Branch (mid-level)"),
    ):
        dead = sum(r.active.get(layer, 1.0) == 0 for r in results)
        if dead:
            warn(
                f"{where}: every activation is 0 for {dead} of {len(results)} face(s) — its ReLUs are dead in this "
                "model, so its Grad-CAM is empty (the model cannot use that branch; train with a lower --lr)"
            )

    run_dir = new_run(project, "gradcam", name)
    figures = []
    for part, start in enumerate(range(0, len(results), ROWS_PER_FIGURE), start=1):
        path = run_dir / ("gradcam.png" if part == 1 else f"gradcam_{part}.png")
        plot_gradcam(results[start : start + ROWS_PER_FIGURE], ckpt.class_names, path=path, style=style)
        figures.append(path.name)
    patch_figures = []
    for i, r in enumerate(results, start=1):
        path = run_dir / f"patches_{i:02d}_{ckpt.class_names[r.label if r.label is not None else r.predicted]}.png"
        plot_patches(r, ckpt.class_names, path=path, style=style)
        patch_figures.append(path.name)
    np.savez_compressed(
        run_dir / "heatmaps.npz",
        faces=np.stack(faces),
        **{m: np.stack([r.heatmaps[m] for r in results]) for m in MAPS},
        vector_weights=np.stack([r.vector_weights for r in results]),
        kept=np.stack([r.kept for r in results]),
    )
    options = {
        "kind": "gradcam",
        "command": command or f"mffcnn.gradcam({str(checkpoint)!r}, ...)",
        "checkpoint": str(checkpoint),
        "checkpoint_info": {
            k: ckpt.info.get(k) for k in ("dataset", "synthetic", "epochs", "seed", "scores", "command")
        },
        "model": ckpt.config.to_dict(),
        "class_names": ckpt.class_names,
        "images": [str(p) for p in images],
        "dataset": dataset,
        "root": str(root) if root is not None else None,
        "dataset_options": dataset_options or {},
        "per_class": bool(per_class or (dataset is not None and not indices)),
        "indices": list(indices) if indices else None,
        "target": target,
        "score": score,
        "style": style,
        "seed": seed,
        "mffcnn": __version__,
        "machine": machine_info(),
    }
    write_json(run_dir / "options.json", options)
    summary = {
        "kind": "gradcam",
        **data,
        "checkpoint": str(checkpoint),
        "class_names": ckpt.class_names,
        "score": score,
        "style": style,
        "skipped": skipped,
        "figures": figures,
        "patch_figures": patch_figures,
        "samples": [r.summary(ckpt.class_names) for r in results],
    }
    write_json(run_dir / "results.json", summary)
    return run_dir, summary
