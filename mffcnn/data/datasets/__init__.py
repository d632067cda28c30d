"""Datasets in their native layouts: one module each knows one layout; `load_dataset` picks one by name.

`load_dataset` also applies the face options every dataset shares (Viola-Jones on or off, the
margin, what to do without a face) on top of the dataset's own default preprocessing, and
goes through the prepared-dataset cache (cache.py) unless told not to.
"""

from __future__ import annotations

import inspect
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mffcnn.data.datasets import affectnet, ckplus, ckplus48, fer2013, ferplus, folder, jaffe, oulu, sfew, synthetic
from mffcnn.data.faceset import FaceSet
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

# name → loader; a loader takes the root (unless it generates its data) and keyword-only options.
DATASETS = {
    "synthetic": synthetic.load,
    "ckplus": ckplus.load,
    "ckplus48": ckplus48.load,
    "jaffe": jaffe.load,
    "oulu": oulu.load,
    "sfew": sfew.load,
    "fer2013": fer2013.load,
    "ferplus": ferplus.load,
    "affectnet": affectnet.load,
    "folder": folder.load,
}

# Options every dataset takes (they change its Preprocessing), beside its loader's own.
FACE_OPTIONS = ("detect_face", "margin", "no_face", "face_detector", "align")


def option_names(name: str) -> set[str]:
    """The names of the keyword options a dataset's loader accepts (beyond preprocessing)."""
    _check_name(name)
    params = inspect.signature(DATASETS[name]).parameters
    return {p.name for p in params.values() if p.kind == p.KEYWORD_ONLY} - {"preprocessing"}


def needs_root(name: str) -> bool:
    return "root" in inspect.signature(DATASETS[name]).parameters


def default_preprocessing(name: str) -> Preprocessing:
    """The dataset's own default: Viola-Jones on for uncropped photos (CK+, JAFFE, Oulu-CASIA),
    off for aligned faces (CK+48, SFEW, FER2013, synthetic, folder)."""
    _check_name(name)
    return getattr(sys.modules[DATASETS[name].__module__], "PREPROCESSING", Preprocessing())


def _check_name(name: str) -> None:
    if name not in DATASETS:
        from difflib import get_close_matches

        close = get_close_matches(name, DATASETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MffcnnError(f"unknown dataset {name!r}{hint}; choose from {', '.join(DATASETS)}")


def resolve_preprocessing(name: str, preprocessing: Preprocessing | None = None, **face) -> Preprocessing:
    """The dataset's default (or the given) preprocessing with the face options applied."""
    base = preprocessing or default_preprocessing(name)
    try:
        return base.replace(**{k: face[k] for k in FACE_OPTIONS if face.get(k) is not None})
    except ValueError as e:
        raise MffcnnError(str(e)) from None


def load_dataset(
    name: str,
    root: str | Path | None = None,
    *,
    preprocessing: Preprocessing | None = None,
    detect_face: bool | None = None,
    margin: float | None = None,
    no_face: str | None = None,
    face_detector: str | None = None,
    align: str | None = None,
    cache: bool | str | Path | None = True,
    refresh: bool = False,
    **options,
) -> FaceSet:
    """Load a dataset by name; options that the dataset does not take are an error, not ignored.

    detect_face / margin / no_face / face_detector ("haar", "blazeface") / align ("box", "eyes") change the
    dataset's default preprocessing (None: keep it).
    cache: True (None) = the default cache folder, a path = that folder, False = read the files
    afresh and store nothing (so does the environment variable MFFCNN_NO_CACHE=1); refresh
    prepares again and replaces the cached entry."""
    _check_name(name)
    options = {k: v for k, v in options.items() if v is not None}
    unknown = set(options) - option_names(name)
    if unknown:
        raise MffcnnError(f"{name} does not take the option(s) {', '.join(sorted(unknown))}")
    preprocessing = resolve_preprocessing(
        name,
        preprocessing,
        detect_face=detect_face,
        margin=margin,
        no_face=no_face,
        face_detector=face_detector,
        align=align,
    )
    loader = DATASETS[name]
    if not needs_root(name):
        if root is not None:
            raise MffcnnError(f"{name} is generated in code and takes no path")
        return loader(preprocessing=preprocessing, **options)  # generated in code: nothing to cache
    if root is None:
        raise MffcnnError(f"{name} needs the path of the dataset: mffcnn cv {name} PATH")
    if cache is False or os.environ.get("MFFCNN_NO_CACHE", "") not in ("", "0"):
        return loader(root, preprocessing=preprocessing, **options)
    from mffcnn.data import cache as cache_mod

    resolved = Path(root).expanduser().resolve()
    cache_dir = Path(cache).expanduser() if isinstance(cache, (str, Path)) else None
    return cache_mod.cached(
        name,
        resolved,
        options,
        preprocessing,
        lambda: loader(root, preprocessing=preprocessing, **options),
        cache_dir=cache_dir,
        refresh=refresh,
    )


@dataclass
class DatasetSpec:
    """A dataset named on a command line: its name, where it is, and its loader's options."""

    dataset: str
    root: str | None = None
    options: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> DatasetSpec:
        """'NAME:PATH[:key=value,…]' (or 'NAME' for synthetic) → DatasetSpec; the options are the loader's own,
        e.g. 'ferplus:/data/ferplus:labels=votes' or 'jaffe:/data/jaffe:augment=false'."""
        name, _, rest = text.partition(":")
        if not name.strip():
            raise MffcnnError(f"{text!r}: expected DATASET:PATH, e.g. jaffe:/data/jaffe")
        head, _, tail = rest.rpartition(":")
        options = {}
        if head and "=" in tail:
            rest, options = head, parse_options(tail)
        return cls(name.strip(), rest or None, options)

    def load(self, **extra) -> FaceSet:
        return load_dataset(self.dataset, self.root, **{**self.options, **extra})


def parse_options(text: str) -> dict:
    """'a=1,b=true,c=x' → {'a': 1, 'b': True, 'c': 'x'}."""
    out: dict = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise MffcnnError(f"option {item!r} is not key=value")
        low = value.lower()
        if low in ("true", "false"):
            out[key] = low == "true"
            continue
        for kind in (int, float):
            try:
                out[key] = kind(value)
                break
            except ValueError:
                pass
        else:
            out[key] = value
    return out


__all__ = [
    "DATASETS",
    "FACE_OPTIONS",
    "DatasetSpec",
    "default_preprocessing",
    "parse_options",
    "load_dataset",
    "needs_root",
    "option_names",
    "resolve_preprocessing",
]
