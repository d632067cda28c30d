"""Shared fixtures: small dataset trees in their real layouts, drawn by the synthetic generator."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from hypothesis import settings

from mffcnn.data.datasets import synthetic

torch.set_num_threads(1)  # small tensors: threads cost more than they give, and results stay reproducible

# Hypothesis draws the same examples on every run (no seed from the clock, no example database), so a test that
# passes once passes always; bench/fuzz.py explores new examples with HYPOTHESIS_PROFILE=explore.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Prepared datasets go to a temporary cache, never the user's ~/.cache/mffcnn."""
    monkeypatch.setenv("MFFCNN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def synthetic_faces(subjects: int, per_class: int, seed: int = 0, size: int = 60):
    return list(synthetic.generate(subjects=subjects, per_class=per_class, seed=seed, size=size))


# The classes of the untrained model below (the 6 basic expressions, in the datasets' order).
UNTRAINED_CLASSES = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """An untrained but deterministic model: the pipeline, not the accuracy, is under test."""
    from mffcnn.checkpoint import Checkpoint, save_checkpoint
    from mffcnn.data.preprocess import Preprocessing
    from mffcnn.model import MFFCNN, MFFCNNConfig

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    save_checkpoint(path, Checkpoint(MFFCNN(MFFCNNConfig()), UNTRAINED_CLASSES, Preprocessing(), {"dataset": "test"}))
    return path


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


# --- Uncropped photos and dataset trees in each dataset's real layout -------------------------


def face_photo(
    face: np.ndarray,
    shape: tuple[int, int] = (240, 320),
    side: int = 150,
    background: int = 90,
    offset: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """A synthetic face enlarged to `side` px and pasted on a plain background: an uncropped
    photo that OpenCV's Haar cascade finds a face in (as in CK+, JAFFE, Oulu-CASIA)."""
    h, w = shape
    canvas = np.full(shape, background, np.uint8)
    y, x = (h - side) // 2 + offset[0], (w - side) // 2 + offset[1]
    canvas[y : y + side, x : x + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    return canvas


def make_ckplus(root: Path, *, subjects: int = 3, frames: int = 5) -> Path:
    """CK+ original: cohn-kanade-images/S0xx/00k/S0xx_00k_000000nn.png + Emotion/…_emotion.txt.

    Each subject has one sequence per basic expression (codes 1, 3–7), one contempt sequence (2)
    and one unlabelled sequence (no label file, as most CK+ sequences)."""
    codes = {"anger": 1, "disgust": 3, "fear": 4, "happy": 5, "sadness": 6, "surprise": 7}
    faces = synthetic_faces(subjects=subjects, per_class=frames)
    for face, label, subject, name in faces:
        s = f"S{int(subject[1:]) + 5:03d}"
        seq = f"{codes[label]:03d}"
        k = int(name.rsplit("/", 1)[1])
        folder = root / "cohn-kanade-images" / s / seq
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{s}_{seq}_{k + 1:08d}.png"), face_photo(face))
        if k == frames - 1:
            labels = root / "Emotion" / s / seq
            labels.mkdir(parents=True, exist_ok=True)
            (labels / f"{s}_{seq}_{k + 1:08d}_emotion.txt").write_text(f"   {float(codes[label]):.7e}\n")
    for s_i in range(subjects):
        s = f"S{s_i + 5:03d}"
        for seq, code in (("008", 2), ("009", None)):  # contempt; unlabelled
            folder = root / "cohn-kanade-images" / s / seq
            folder.mkdir(parents=True)
            for k in range(frames):
                cv2.imwrite(str(folder / f"{s}_{seq}_{k + 1:08d}.png"), face_photo(faces[k][0]))
            if code is not None:
                (root / "Emotion" / s / seq).mkdir(parents=True)
                (root / "Emotion" / s / seq / f"{s}_{seq}_{frames:08d}_emotion.txt").write_text(f"{float(code):.7e}")
    (root / "cohn-kanade-images" / ".DS_Store").write_bytes(b"\0")  # as in the real release
    return root


JAFFE_CODES = {"anger": "AN", "disgust": "DI", "fear": "FE", "happy": "HA", "sadness": "SA", "surprise": "SU"}


def make_jaffe(root: Path, *, subjects: int = 3, per_class: int = 2) -> Path:
    """JAFFE: flat KA.AN1.39.tiff files, 256×256; every third a palette TIFF (as 23 of the real ones),
    plus one neutral photo per subject."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    faces = synthetic_faces(subjects=subjects, per_class=per_class)
    names = ["KA", "KL", "KM", "KR", "MK", "NA"]
    for i, (face, label, subject, name) in enumerate(faces):
        who = names[int(subject[1:])]
        take = int(name.rsplit("/", 1)[1]) + 1
        path = root / f"{who}.{JAFFE_CODES[label]}{take}.{i + 1}.tiff"
        photo = face_photo(face, shape=(256, 256), side=160)
        if i % 3 == 0:
            Image.fromarray(photo).convert("P").save(path)
        else:
            cv2.imwrite(str(path), photo)
        if label == "anger" and take == 1:
            cv2.imwrite(str(root / f"{who}.NE1.{100 + i}.tiff"), photo)
    return root


def make_oulu(root: Path, *, persons: int = 3, frames: int = 4) -> Path:
    """Oulu-CASIA: OriginalImg/VL/Strong/P001/Anger/000.jpeg …, with NI and Weak copies beside it."""
    folders = {
        "anger": "Anger",
        "disgust": "Disgust",
        "fear": "Fear",
        "happy": "Happiness",
        "sadness": "Sadness",
        "surprise": "Surprise",
    }
    for face, label, subject, name in synthetic_faces(subjects=persons, per_class=frames):
        k = int(name.rsplit("/", 1)[1])
        person = f"P{int(subject[1:]) + 1:03d}"
        for camera, light in (("VL", "Strong"), ("VL", "Weak"), ("NI", "Strong")):
            folder = root / "OriginalImg" / camera / light / person / folders[label]
            folder.mkdir(parents=True, exist_ok=True)
            photo = face_photo(face)
            if camera == "NI":
                photo = 255 - photo // 2  # a visibly different picture, to tell which camera was read
            cv2.imwrite(str(folder / f"{k:03d}.jpeg"), np.dstack([photo] * 3))
    return root


SFEW_FOLDERS = {
    "anger": "Angry",
    "disgust": "Disgust",
    "fear": "Fear",
    "happy": "Happy",
    "neutral": "Neutral",
    "sadness": "Sad",
    "surprise": "Surprise",
}


def make_sfew(root: Path, *, per_class: int = 1, black_val: int = 2) -> Path:
    """SFEW 2.0 aligned faces: Train|Val/<Emotion>/<Movie>_<timestamp>_<frame>.png, 143×181 RGB;
    the synthetic neutral class is drawn from the 'happy' faces at rest; `black_val` all-black Val images."""
    movies = ["Airheads", "AlexEmma", "21", "Hangover"]
    faces = synthetic_faces(subjects=4, per_class=per_class * 2)
    by_label: dict[str, list] = {}
    for face, label, subject, _ in faces:
        by_label.setdefault(label, []).append((face, int(subject[1:])))
    by_label["neutral"] = [(cv2.GaussianBlur(f, (0, 0), 2), s) for f, s in by_label["happy"]]
    for label, items in by_label.items():
        for i, (face, s) in enumerate(items):
            split = "Train" if i % 2 == 0 else "Val"
            folder = root / split / SFEW_FOLDERS[label]
            folder.mkdir(parents=True, exist_ok=True)
            rgb = np.dstack([cv2.resize(face, (143, 181))] * 3)
            cv2.imwrite(str(folder / f"{movies[s]}_{1000 * (i + 1):09d}_{i:08d}.png"), rgb)
    for k in range(black_val):
        cv2.imwrite(str(root / "Val" / "Happy" / f"Hangover_{k:09d}_00000001.png"), np.zeros((181, 143, 3), np.uint8))
    return root


def fer_row(code: int, face: np.ndarray, usage: str) -> str:
    small = cv2.resize(face, (48, 48), interpolation=cv2.INTER_AREA)
    return f"{code},{' '.join(map(str, small.ravel().tolist()))},{usage}"


def make_fer_csv(path: Path, *, per_class: int = 4) -> Path:
    """fer2013.csv: emotion,pixels,Usage with 0 Angry … 6 Neutral, in all three Usage parts."""
    order = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]
    usages = ["Training", "Training", "PublicTest", "PrivateTest"]
    lines = ["emotion,pixels,Usage"]
    for face, label, subject, name in synthetic_faces(subjects=2, per_class=per_class // 2):
        usage = usages[(int(subject[1:]) * 2 + int(name.rsplit("/", 1)[1])) % 4]  # per class: 2 train, 1 val, 1 test
        lines.append(fer_row(order.index(label), face, usage))
        if label == "happy":
            lines.append(fer_row(6, cv2.GaussianBlur(face, (0, 0), 2), usage))  # neutral
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def make_fer_folders(root: Path) -> Path:
    """The common FER2013 folder export: train|test/<emotion>/*.jpg, 48×48 grey."""
    names = {
        "anger": "angry",
        "disgust": "disgust",
        "fear": "fear",
        "happy": "happy",
        "sadness": "sad",
        "surprise": "surprise",
    }
    for i, (face, label, subject, name) in enumerate(synthetic_faces(subjects=2, per_class=2)):
        split = "test" if (int(subject[1:]) * 2 + int(name.rsplit("/", 1)[1])) % 4 == 3 else "train"
        for lab, img in (
            (names[label], face),
            *((("neutral", cv2.GaussianBlur(face, (0, 0), 2)),) if label == "happy" else ()),
        ):
            folder = root / split / lab
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"im{i}.jpg"), cv2.resize(img, (48, 48)))
    return root


FERPLUS_COLUMNS = ["neutral", "happy", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]


def make_ferplus(root: Path) -> Path:
    """FER+: FER2013Train|FER2013Valid/label.csv + 48×48 grey PNGs. Each label row: file, box, 10 votes in the
    order neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, not-a-face.

    Per split: one face of each of the 6 basic classes and neutral with a clear top vote (7 of 10 votes, the
    rest spread), plus one tie (5/5), one mostly 'unknown', one 'not a face', one contempt and one PNG
    without a row."""
    faces = synthetic_faces(subjects=2, per_class=1, size=48)
    by_label = {label: face for face, label, _, _ in faces}
    by_label["neutral"] = cv2.GaussianBlur(by_label["happy"], (0, 0), 2)
    for split in ("FER2013Train", "FER2013Valid"):
        folder = root / split
        folder.mkdir(parents=True)
        rows = []
        for i, (label, face) in enumerate(sorted(by_label.items())):
            votes = [0] * 10
            votes[FERPLUS_COLUMNS.index(label)] = 7
            votes[(FERPLUS_COLUMNS.index(label) + 1) % 7] = 3  # the second opinion: a soft target to learn
            rows.append((f"fer{i:07d}.png", face, votes))
        anger, sad = by_label["anger"], by_label["sadness"]
        rows.append(("fer0000100.png", anger, [0, 0, 0, 5, 5, 0, 0, 0, 0, 0]))  # tie sadness/anger
        rows.append(("fer0000101.png", sad, [2, 0, 0, 0, 0, 0, 0, 0, 8, 0]))  # unknown
        rows.append(("fer0000102.png", np.zeros((48, 48), np.uint8) + 9, [0] * 9 + [10]))  # not a face
        rows.append(("fer0000103.png", sad, [3, 0, 0, 0, 0, 0, 0, 7, 0, 0]))  # contempt
        lines = []
        for name, face, votes in rows:
            cv2.imwrite(str(folder / name), face)
            lines.append(f'{name},"(0, 0, 48, 48)",' + ",".join(map(str, votes)))
        (folder / "label.csv").write_text("\n".join(lines) + "\n")
        cv2.imwrite(str(folder / "fer0000200.png"), anger)  # no row in label.csv
    return root


def make_affectnet(root: Path, *, per_class: int = 2) -> Path:
    """The AffectNet cut: train|valid/<class>/<name>.jpg, 96×96 grey JPEG loose crops (the face inside a
    border of background); names image00NNNNN (AffectNet's own) and ffhq_N (the cut's FFHQ additions)."""
    faces = synthetic_faces(subjects=2, per_class=per_class * 2)
    neutral = [(cv2.GaussianBlur(f, (0, 0), 2), "neutral") for f, label, _, _ in faces if label == "happy"]
    n = 0
    for face, label in [(f, label) for f, label, _, _ in faces] + neutral:
        split = "train" if n % 2 == 0 else "valid"
        folder = root / split / label
        folder.mkdir(parents=True, exist_ok=True)
        name = f"ffhq_{n}.jpg" if n % 4 < 2 else f"image{n:07d}.jpg"
        cv2.imwrite(str(folder / name), face_photo(face, shape=(96, 96), side=64), [cv2.IMWRITE_JPEG_QUALITY, 95])
        n += 1
    return root
