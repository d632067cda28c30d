"""A uniform model soup: the mean of the weights of several MFF-CNN checkpoints (Wortsman et al. 2022).

    python bench/soup.py A.safetensors B.safetensors [...] --out SOUP.safetensors

The checkpoints must share the architecture, the classes (in order) and the preprocessing: fine-tunings of
one run (the bundled model's stages from stage-1 models of different lengths, say), whose weights lie in one
basin, so their mean is a model of its own and not noise. Every float tensor (batch-norm statistics too) is
averaged; integer counters are taken from the first. The soup's info keeps what they share, with `soup` listing the
ingredients with how each was trained (recipe, epochs, stages, command); the datasets it was trained on are all
of theirs (seen_by_all), so bench/cross_source.py knows what it saw. Score it like any checkpoint
(bench/cross_source.py --model soup=SOUP.safetensors).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import torch

from mffcnn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mffcnn.errors import MffcnnError

# Info fields the ingredients share (the data they were trained on); the rest is per ingredient.
SHARED = ("dataset", "trained_on", "pretrained_on", "class_counts", "n_images", "licence", "crop_calibration")


def same_crop(a: Checkpoint, b: Checkpoint) -> bool:
    """Whether two checkpoints cut and normalise faces alike. An eye-aligned crop has no use for the box margin
    (Preprocessing.crop_at), which each training run sets from its own datasets: it may differ."""
    pa, pb = a.preprocessing, b.preprocessing
    return pa == pb or (pa.align == pb.align == "eyes" and pa.replace(margin=pb.margin) == pb)


def seen_by_all(infos: list[dict]) -> dict:
    """The training data of the soup, when its ingredients saw different data (a fine-tuning with the lab sets and
    one without): every dataset any of them was trained on, so a benchmark never scores the soup on a source one
    ingredient learnt from as if it were held out. {} when they all saw the same (the first's fields stand)."""
    if all(info.get("trained_on") == infos[0].get("trained_on") for info in infos):
        return {}
    parts = [part for info in infos for part in info.get("trained_on") or []]
    union = list({part["spec"]: part for part in parts}.values())  # each dataset spec once, in order
    counts: dict[str, int] = {}
    for part in union:
        for c, n in part.get("class_counts", {}).items():
            counts[c] = counts.get(c, 0) + n
    return {
        "trained_on": union,
        "dataset": "+".join(dict.fromkeys(part["dataset"] for part in union)),
        "n_images": sum(part.get("images", 0) for part in union),
        "class_counts": counts,
    }


def soup(paths: list[Path]) -> Checkpoint:
    ckpts = [load_checkpoint(p) for p in paths]
    first = ckpts[0]
    for p, c in zip(paths[1:], ckpts[1:]):
        if c.config != first.config or c.class_names != first.class_names or not same_crop(c, first):
            sys.exit(f"bench/soup.py: {p} differs from {paths[0]} in architecture, classes or preprocessing")
    states = [c.model.state_dict() for c in ckpts]
    mean = {
        k: torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v.clone()
        for k, v in states[0].items()
    }
    first.model.load_state_dict(mean)
    # What the ingredients share (what they saw and its licences) stays on top; how each was trained (its
    # recipe, epochs, stages, scores, command) goes with it under `soup`.
    info = {k: first.info[k] for k in SHARED if k in first.info} | seen_by_all([c.info for c in ckpts])
    info["soup"] = [
        {"path": str(p), **{k: v for k, v in c.info.items() if k not in SHARED}} for p, c in zip(paths, ckpts)
    ]
    info["command"] = "python bench/soup.py " + " ".join(map(str, paths))
    info["date"] = datetime.date.today().isoformat()
    return Checkpoint(first.model, first.class_names, first.preprocessing, info)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    if len(args.checkpoints) < 2:
        sys.exit("bench/soup.py: give two checkpoints or more")
    if args.out.exists():
        sys.exit(f"bench/soup.py: {args.out} exists; it is not overwritten")
    try:
        print(save_checkpoint(args.out, soup(args.checkpoints)))
    except MffcnnError as e:  # a missing or unreadable checkpoint: one line
        sys.exit(f"bench/soup.py: {e}")


if __name__ == "__main__":
    main()
