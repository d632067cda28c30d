"""bench/pose.py's measure of head turn: the nose tip's offset along the levelled eye line, in eye distances."""

import math
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import pose  # noqa: E402


def face(nose_dx=0.0, angle=0.0, scale=40.0):
    """Six landmarks (eyes, nose, mouth, ears) of a face with eyes `scale` px apart, the nose moved by nose_dx
    eye distances along the eye line, the whole face turned `angle`° in the image plane."""
    pts = np.array([[-0.5, 0], [0.5, 0], [nose_dx, 0.5], [0, 1.0], [-0.9, 0.2], [0.9, 0.2]]) * scale
    a = math.radians(angle)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return pts @ r.T + [200, 150]


def test_a_frontal_face_has_no_turn_and_the_offset_is_read_in_eye_distances():
    assert pose.turn(face()) < 1e-9
    assert abs(pose.turn(face(0.3)) - 0.3) < 1e-9
    assert abs(pose.turn(face(-0.3)) - 0.3) < 1e-9  # either way


def test_the_turn_ignores_in_plane_tilt_and_the_face_size():
    for angle in (-30, 15, 90):
        assert abs(pose.turn(face(0.2, angle=angle, scale=25)) - 0.2) < 1e-9


def test_each_bin_holds_its_range_and_a_crop_without_a_face_is_counted_apart(tmp_path):
    uppers = [u for u, _ in pose.BINS]
    assert uppers == sorted(uppers) and uppers[-1] == np.inf
    blank = tmp_path / "noise.png"
    cv2.imwrite(str(blank), np.random.default_rng(0).integers(0, 255, (96, 96), dtype=np.uint8))
    assert pose.turn_bins([str(blank)]) == [pose.NOT_FOUND]
