"""What the loaders share about folders: the root check and the walks over folder-per-class trees.

Two kinds of tree: one whose class folders carry our class names (`ROOT/anger/…`: CK+48, any `folder`
tree), walked class by class (class_tree_records); and one whose emotion folders carry the dataset's own
spelling (`Train/Angry/…`: SFEW 2.0, FER2013's folder export), walked folder by folder with every name
mapped through the label aliases (emotion_folder_files). Everything that cannot be used is counted in the
summary, with a per-file warning: nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from mffcnn.data.faceset import UNLABELLED, PrepareSummary, Record
from mffcnn.data.files import files_under
from mffcnn.data.images import is_image_file
from mffcnn.data.labels import canonical
from mffcnn.errors import MffcnnError


def check_root(root: str | Path, dataset: str) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise MffcnnError(f"{dataset}: dataset root {str(root)!r} does not exist")
    if not root.is_dir():
        raise MffcnnError(f"{dataset}: dataset root {str(root)!r} is not a folder")
    return root


def check_frames(frames: int, dataset: str) -> None:
    """The last `frames` frames of each sequence are taken (CK+, Oulu-CASIA: 3, §4.1): at least one."""
    if frames < 1:
        raise MffcnnError(f"{dataset}: --frames must be at least 1")


def visible_dirs(folder: Path) -> list[Path]:
    """Sub-folders, sorted, without hidden ones (.DS_Store's kin)."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def visible_files(folder: Path) -> list[Path]:
    """Every file below a folder, sorted, without hidden ones."""
    return [p for p in files_under(folder) if not p.name.startswith(".")]


def class_tree_records(
    root: Path,
    classes: list[str],
    subject_of: Callable[[Path], str | None],
    summary: PrepareSummary,
    *,
    no_subject_reason: str,
) -> list[Record]:
    """Records of `root/<class>/*` for the given classes; what cannot be used is counted in summary."""
    records = []
    for label in classes:
        folder = root / label
        if not folder.is_dir():
            summary.notes.append(f"no folder {label}/ under {root}")
            continue
        for path in _images(folder, label, summary, empty_note=f"class folder {label}/ is empty"):
            subject = subject_of(path)
            if subject is None:
                summary.skip(label, "no subject in name", f"{path}: {no_subject_reason}; skipped")
                continue
            records.append(Record(path=str(path), label=label, subject=subject))
    return records


def emotion_folder_files(
    folder: Path, classes: list[str], summary: PrepareSummary, *, known: str, root: Path
) -> Iterator[tuple[Path, str]]:
    """(image, our label) of every file in `folder/<Emotion>/…`, the folder names spelt as the dataset spells
    them (Angry, Sad, …). Folders of other names are counted as "unknown emotion folder"; known says what
    the dataset has, for the warning ("SFEW's seven emotions")."""
    for emotion_dir in visible_dirs(folder):
        label = canonical(emotion_dir.name)
        if label not in classes:
            for p in visible_files(emotion_dir):
                summary.skip(
                    UNLABELLED, "unknown emotion folder", f"{p}: {emotion_dir.name!r} is not one of {known}; skipped"
                )
            continue
        empty = f"class folder {emotion_dir.relative_to(root)}/ is empty"
        for path in _images(emotion_dir, label, summary, empty_note=empty):
            yield path, label


def _images(folder: Path, label: str, summary: PrepareSummary, *, empty_note: str) -> Iterator[Path]:
    files = visible_files(folder)
    if not files:
        summary.notes.append(empty_note)
    for path in files:
        if is_image_file(path):
            yield path
        else:
            summary.skip(label, "not an image file", f"{path}: not an image file; skipped")
