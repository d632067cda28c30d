"""Datasets in their native layouts. Each module knows one layout; `load_dataset` picks one by name."""

from __future__ import annotations

import inspect
from pathlib import Path

from mffcnn.data import ckplus48, folder, synthetic
from mffcnn.data.faceset import FaceSet, PrepareSummary, Record
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

# name → loader; a loader takes the root (unless it generates its data) and keyword-only options.
DATASETS = {
    "synthetic": synthetic.load,
    "ckplus48": ckplus48.load,
    "folder": folder.load,
}


def dataset_options(name: str) -> set[str]:
    """The keyword options a dataset's loader accepts (beyond preprocessing)."""
    params = inspect.signature(DATASETS[name]).parameters
    return {p.name for p in params.values() if p.kind == p.KEYWORD_ONLY} - {"preprocessing"}


def needs_root(name: str) -> bool:
    return "root" in inspect.signature(DATASETS[name]).parameters


def load_dataset(
    name: str, root: str | Path | None = None, *, preprocessing: Preprocessing | None = None, **options
) -> FaceSet:
    """Load a dataset by name; options that the dataset does not take are an error, not ignored."""
    if name not in DATASETS:
        from difflib import get_close_matches

        close = get_close_matches(name, DATASETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MffcnnError(f"unknown dataset {name!r}{hint}; choose from {', '.join(DATASETS)}")
    options = {k: v for k, v in options.items() if v is not None}
    unknown = set(options) - dataset_options(name)
    if unknown:
        raise MffcnnError(f"{name} does not take the option(s) {', '.join(sorted(unknown))}")
    loader = DATASETS[name]
    if needs_root(name):
        if root is None:
            raise MffcnnError(f"{name} needs the path of the dataset: mffcnn cv {name} PATH")
        return loader(root, preprocessing=preprocessing, **options)
    if root is not None:
        raise MffcnnError(f"{name} is generated in code and takes no path")
    return loader(preprocessing=preprocessing, **options)


__all__ = ["DATASETS", "FaceSet", "PrepareSummary", "Preprocessing", "Record", "load_dataset"]
