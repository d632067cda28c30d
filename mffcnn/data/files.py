"""Listing the files below a folder, and saying what could not be listed.

pathlib's rglob skips, without a word, sub-folders it may not read and folders reached through a symbolic
link. Here both are visible: a folder reached through a link is walked (the user linked it there to be
read), each real folder once, so that a link back to a folder above it (a loop) ends with a warning instead
of never; a sub-folder that cannot be read, and a link that leads nowhere, are warnings too.
"""

from __future__ import annotations

import os
from pathlib import Path

from mffcnn.errors import warn


def files_under(folder: str | Path, *, recursive: bool = True) -> list[Path]:
    """Every file below `folder` (or in it, recursive=False), sorted, hidden ones included."""
    folder = Path(folder)
    if not recursive:
        return sorted(p for p in _entries(folder) if _is_file(p))
    found: list[Path] = []
    walked: dict[tuple[int, int], str] = {}

    def unreadable(e: OSError) -> None:
        warn(f"{e.filename}: cannot read this folder ({e.strerror or e}); its files are skipped")

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError as e:
            unreadable(e)
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in walked:
            warn(f"{dirpath}: a link to {walked[key]}, which is listed already (a loop?); not followed again")
            dirnames[:] = []
            continue
        walked[key] = dirpath
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath, name)
            if _is_file(path):
                found.append(path)
    return sorted(found)


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError as e:
        warn(f"{folder}: cannot read this folder ({e.strerror or e}); its files are skipped")
        return []


def _is_file(path: Path) -> bool:
    if path.is_file():
        return True
    if path.is_symlink() and not path.exists():
        warn(f"{path}: a link to {os.readlink(path)}, which does not exist; skipped")
    return False
