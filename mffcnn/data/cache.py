"""The prepared-dataset cache: read, select and crop a dataset once; load it in a blink after.

A prepared FaceSet (60×60 faces, labels, subjects, groups, paths, class names, preprocessing
and the per-class summary with its warnings) is stored as one `.npz` (no pickles) under
`$MFFCNN_CACHE_DIR`, else `$XDG_CACHE_HOME/mffcnn`, else `~/.cache/mffcnn`.

The file name is the dataset's name and a key over everything the result depends on: the
dataset, the resolved root, the loader's options, the preprocessing (face detection, margin,
detector settings, size), the source of mffcnn/data (a code change re-prepares), and every
file under the root with its size and modification time (an added, removed or edited image
re-prepares). A stale entry of the same dataset, root and options is replaced, not kept.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from mffcnn.data.faceset import FaceSet, PrepareSummary
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import warn

FORMAT = 1
REPLAYED_WARNINGS = 50  # a cache hit repeats at most this many per-file warnings


def default_dir() -> Path:
    if os.environ.get("MFFCNN_CACHE_DIR"):
        return Path(os.environ["MFFCNN_CACHE_DIR"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mffcnn"


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the data-preparation code: a new mffcnn that crops differently re-prepares."""
    h = hashlib.sha256(str(FORMAT).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def files_signature(root: Path) -> str:
    """Every file under root (or root itself, if a file) with its size and mtime, hashed."""
    h = hashlib.sha256()
    if root.is_file():
        st = root.stat()
        h.update(f"{root.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return h.hexdigest()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            try:
                st = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue  # a dangling link: the loader will say so
            h.update(f"{rel}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def entry_prefix(name: str, root: Path, options: dict, preprocessing: Preprocessing) -> str:
    """The part of an entry's file name that names what was prepared (not the state of the files)."""
    what = json.dumps(
        {"name": name, "root": str(root), "options": options, "preprocessing": preprocessing.to_dict()},
        sort_keys=True,
        default=str,
    )
    return f"{name}-{hashlib.sha256(what.encode()).hexdigest()[:12]}-"


def entry_path(name: str, root: Path, options: dict, preprocessing: Preprocessing, cache_dir: Path) -> Path:
    state = f"{code_version()}:{files_signature(root)}"
    return cache_dir / (
        entry_prefix(name, root, options, preprocessing) + f"{hashlib.sha256(state.encode()).hexdigest()[:12]}.npz"
    )


def save(faceset: FaceSet, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "name": faceset.name,
        "class_names": faceset.class_names,
        "preprocessing": faceset.preprocessing.to_dict(),
        "synthetic": faceset.synthetic,
        "summary": faceset.summary.to_dict(),
    }
    tmp = path.with_name(path.name + ".tmp.npz")
    soft = {} if faceset.targets is None else {"targets": faceset.targets}
    np.savez_compressed(
        tmp,
        images=faceset.images,
        labels=faceset.labels,
        subjects=faceset.subjects.astype(str),
        groups=faceset.groups.astype(str),
        paths=np.asarray(faceset.paths, dtype=str),
        meta=np.asarray(json.dumps(meta)),
        **soft,
    )
    os.replace(tmp, path)  # atomic: an interrupted prepare never leaves half an entry
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for old in path.parent.glob(prefix + "*.npz"):  # older versions of this same dataset and options
        if old != path:
            old.unlink(missing_ok=True)


def load(path: Path) -> FaceSet:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != FORMAT:
            raise ValueError("other cache format")
        return FaceSet(
            name=meta["name"],
            class_names=meta["class_names"],
            images=z["images"],
            labels=z["labels"].astype(np.int64),
            subjects=z["subjects"],
            groups=z["groups"],
            paths=z["paths"].tolist(),
            preprocessing=Preprocessing.from_dict(meta["preprocessing"]),
            synthetic=meta["synthetic"],
            summary=PrepareSummary.from_dict(meta["summary"]),
            cache=str(path),
            from_cache=True,
            targets=z["targets"] if "targets" in z.files else None,
        )


def cached(
    name: str,
    root: Path,
    options: dict,
    preprocessing: Preprocessing,
    build,
    *,
    cache_dir: Path | None = None,
    refresh: bool = False,
) -> FaceSet:
    """The FaceSet from the cache when its key matches, else `build()` stored in the cache.
    A cache hit replays the per-file warnings of the first preparation."""
    cache_dir = cache_dir or default_dir()
    # Only a dataset prepared before has its files listed first: a first run (or a wrong root)
    # goes straight to the loader, which checks the layout before anything walks a large tree.
    seen = any(cache_dir.glob(entry_prefix(name, root, options, preprocessing) + "*.npz"))
    path = entry_path(name, root, options, preprocessing, cache_dir) if seen else None
    if path is not None and path.exists() and not refresh:
        try:
            faceset = load(path)
        except (OSError, ValueError, KeyError) as e:
            warn(f"{path}: unusable cache entry ({e}); preparing again")
        else:
            replay = faceset.summary.warnings
            for message in replay[:REPLAYED_WARNINGS]:
                warn(message)
            if len(replay) > REPLAYED_WARNINGS:
                warn(f"… and {len(replay) - REPLAYED_WARNINGS} more files dropped (counted in the summary)")
            return faceset
    faceset = build()
    path = path or entry_path(name, root, options, preprocessing, cache_dir)
    faceset.cache = str(path)
    try:
        save(faceset, path)
    except OSError as e:
        warn(f"cannot write the dataset cache {path} ({e.strerror or e}); continuing without it")
        faceset.cache = None
    return faceset
