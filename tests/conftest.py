"""Shared fixtures: small dataset trees in their real layouts, drawn by the synthetic generator."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mffcnn.data import synthetic

torch.set_num_threads(1)  # small tensors: threads cost more than they give, and results stay reproducible


def synthetic_faces(subjects: int, per_class: int, seed: int = 0, size: int = 60):
    return list(synthetic.generate(subjects=subjects, per_class=per_class, seed=seed, size=size))


@pytest.fixture(scope="session")
def ckplus48_root(tmp_path_factory) -> Path:
    """A CK+48 tree: <class>/S<subject>_<seq>_<frame>.png, 48×48 grey, 6 subjects, contempt included."""
    root = tmp_path_factory.mktemp("ckplus48")
    faces = synthetic_faces(subjects=6, per_class=3, size=48)
    for face, label, subject, name in faces:
        folder = root / label
        folder.mkdir(exist_ok=True)
        s = int(subject[1:]) + 10
        frame = int(name.rsplit("/", 1)[1])
        seq = synthetic.CLASSES.index(label) + 1  # one sequence per expression, its last 3 frames
        cv2.imwrite(str(folder / f"S{s:03d}_{seq:03d}_{frame + 10:08d}.png"), face)
    (root / "contempt").mkdir()
    for face, _, subject, name in faces[::18]:  # one face of each subject
        s = int(subject[1:]) + 10
        cv2.imwrite(str(root / "contempt" / f"S{s:03d}_007_{int(name[-1]) + 10:08d}.png"), face)
    return root


@pytest.fixture
def folder_root(tmp_path) -> Path:
    """A folder-per-class tree with person ids in file names: <class>/person<k>_<n>.jpg."""
    for face, label, subject, name in synthetic_faces(subjects=5, per_class=2):
        folder = tmp_path / label
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / f"person{subject[1:]}_{name[-1]}.jpg"), np.dstack([face] * 3))
    return tmp_path
