"""Any folder-per-class tree: `ROOT/<class>/<image>`, with an optional subject regex.

The subject of an image is what the regex (searched in the file name) captures: the group
named `subject` if there is one, else group 1, else the whole match. Without a regex every
image is its own subject (its path under the root: `happy/p1.jpg` and `anger/p1.png` are two
subjects, not one person `p1`), so subject-independent folds cannot keep a person out of training:
`cv` says so. The note says what the code does; a shared file stem is no evidence of a shared person
(`img001.jpg` is in every folder of many exports), so it is not taken as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from mffcnn.data.datasets._layout import check_root, class_tree_records, visible_dirs
from mffcnn.data.faceset import FaceSet, PrepareSummary, build_faceset
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PREPROCESSING = Preprocessing(detect_face=False)


def compile_subject_regex(pattern: str | None, root: Path | None = None) -> Callable[[Path], str | None]:
    if pattern is None:
        return lambda path: path.relative_to(root).as_posix() if root is not None else str(path)
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise MffcnnError(f"invalid --subject-regex {pattern!r}: {e}") from None

    def subject_of(path: Path) -> str | None:
        m = regex.search(path.name)
        if m is None:
            return None
        if "subject" in regex.groupindex:
            return m.group("subject")
        return m.group(1) if regex.groups else m.group(0)

    return subject_of


def load(
    root: str | Path,
    *,
    subject_regex: str | None = None,
    classes: list[str] | None = None,
    augment: bool = False,
    preprocessing: Preprocessing | None = None,
) -> FaceSet:
    """Every sub-folder is a class. Face detection is off by default (most such trees are
    exports of aligned datasets, like CK+48 or FER2013's folders); `--detect-face` turns it on for
    uncropped photos. `augment` adds the paper's 8 versions of each photo (augment.py)."""
    from mffcnn.data.augment import PAPER

    preprocessing = preprocessing or PREPROCESSING
    root = check_root(root, "folder")
    found = [p.name for p in visible_dirs(root)]
    if classes is None:
        classes = found
    if not classes:
        raise MffcnnError(f"folder: {root} has no class sub-folders (expected ROOT/<class>/<image>)")
    summary = PrepareSummary()
    records = class_tree_records(
        root,
        classes,
        compile_subject_regex(subject_regex, root),
        summary,
        no_subject_reason=f"--subject-regex {subject_regex!r} does not match the file name",
    )
    if subject_regex is None:
        summary.notes.append("no --subject-regex: every image is its own subject (its path under the root)")
    if not preprocessing.detect_face:
        summary.notes.append("face detection off: each image is used whole (--detect-face for uncropped photos)")
    return build_faceset(
        f"folder:{root.name}",
        classes,
        records,
        preprocessing=preprocessing,
        summary=summary,
        augmentation=PAPER if augment else None,
    )
