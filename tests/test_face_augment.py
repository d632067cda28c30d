"""Viola-Jones cropping (§4.1) and the paper's JAFFE augmentation (augment.py)."""

import numpy as np
from conftest import face_photo, synthetic_faces

from mffcnn.data.augment import PAPER, Augmentation, augmented_crops
from mffcnn.data.face import Box, detect_faces
from mffcnn.data.preprocess import Preprocessing


def test_haar_cascade_finds_the_face_and_the_crop_is_the_face():
    faces = synthetic_faces(subjects=3, per_class=1)
    found = 0
    for face, *_ in faces:
        photo = face_photo(face, offset=(10, -30))
        boxes = detect_faces(photo)
        if not boxes:
            continue
        found += 1
        b = boxes[0]
        cx, cy = b.x + b.w / 2, b.y + b.h / 2
        assert abs(cx - (160 - 30)) < 25 and abs(cy - (120 + 10)) < 25  # centred on the pasted face
        assert 60 < b.w < 200
    assert found >= len(faces) - 1


def test_margin_grows_the_crop():
    face = synthetic_faces(1, 1)[0][0]
    photo = face_photo(face)
    box = detect_faces(photo)[0]
    tight = Preprocessing(detect_face=True).crop_at(photo, box)
    loose = Preprocessing(detect_face=True, margin=0.3).crop_at(photo, box)
    # the looser crop shows more of the plain background at its border
    border = lambda im: np.concatenate([im[0], im[-1], im[:, 0], im[:, -1]])
    assert np.abs(border(loose).astype(int) - 90).mean() < np.abs(border(tight).astype(int) - 90).mean()


def test_paper_augmentation_has_eight_versions():
    assert PAPER.n_views == 8
    grey = np.random.default_rng(0).integers(0, 255, (100, 120), dtype=np.uint8)
    box = Box(30, 20, 50, 50)
    pre = Preprocessing(detect_face=True)
    views = dict(augmented_crops(grey, box, pre, PAPER))
    assert sorted(views) == sorted(["", "flip", "rot+5", "rot-5", "rot+10", "rot-10", "rot+15", "rot-15"])
    assert np.array_equal(views["flip"], views[""][:, ::-1])
    assert all(v.shape == (60, 60) and v.dtype == np.uint8 for v in views.values())
    assert not np.array_equal(views["rot+5"], views["rot-5"])


def test_rotation_uses_the_photo_around_the_face_not_invented_corners():
    # A photo whose every pixel is 200 except a dark square face: rotating the photo about the
    # face keeps real (200) pixels in the crop's corners; rotating the crop would have to invent them.
    grey = np.full((200, 200), 200, np.uint8)
    grey[80:120, 80:120] = 40
    box = Box(70, 70, 60, 60)
    rot = dict(augmented_crops(grey, box, Preprocessing(detect_face=True), Augmentation(flip=False, angles=(15,))))
    corners = rot["rot+15"][[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners == 200).all()


def test_augmentation_without_a_box_rotates_the_whole_image():
    grey = np.tile(np.arange(80, dtype=np.uint8), (80, 1))
    views = augmented_crops(grey, None, Preprocessing(), Augmentation(flip=True, angles=(10,)))
    assert [t for t, _ in views] == ["", "flip", "rot+10"]
