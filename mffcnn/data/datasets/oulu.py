"""Oulu-CASIA NIR&VIS (Zhao et al. 2011), paper §4.1 and §4.5.

Layout, as distributed (the `OriginalImg` folder of the release):

    ROOT/[OriginalImg/]VL/Strong/P001/Anger/000.jpeg      camera / light / person / expression / frame

Cameras VL (visible light) and NI (near infrared); lights Strong (normal indoor light), Weak
and Dark; persons P001…P080; expressions Anger Disgust Fear Happiness Sadness Surprise, one
sequence each, starting neutral and ending at the peak; frames 000.jpeg… (320×240).

The paper's selection: VIS camera, normal light, the last 3 frames of each of the 480
sequences → 1440 images (Table 1). `camera` ("vis"/"nir") and `light` ("strong"/"weak"/"dark")
choose other parts. Frames show the head and shoulders, so Viola-Jones is on by default.
Subject = the person; group = the sequence.

We have no copy of Oulu-CASIA: this module follows the documented layout and is tested on
generated trees of it (tests/test_datasets.py).
"""

from __future__ import annotations

from pathlib import Path

from mffcnn.data.datasets._layout import check_frames, check_root, visible_dirs
from mffcnn.data.faceset import UNLABELLED, FaceSet, PrepareSummary, Record, build_faceset
from mffcnn.data.images import is_image_file
from mffcnn.data.labels import BASIC6, canonical
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PREPROCESSING = Preprocessing(detect_face=True)  # uncropped 320×240 frames
CAMERAS = {"vis": "VL", "nir": "NI"}
LIGHTS = {"strong": "Strong", "weak": "Weak", "dark": "Dark"}


def _choice(value: str, table: dict[str, str], what: str) -> str:
    for key, folder in table.items():
        if value.lower() in (key, folder.lower()):
            return folder
    raise MffcnnError(f"oulu: unknown {what} {value!r}; choose from {', '.join(table)}")


def find_camera_root(root: Path) -> Path:
    """The folder holding VL/ and NI/: root itself, or root/OriginalImg."""
    for base in (root, root / "OriginalImg", *sorted(p for p in root.iterdir() if p.is_dir())):
        if any((base / c).is_dir() for c in CAMERAS.values()):
            return base
    raise MffcnnError(
        f"oulu: {root} does not look like Oulu-CASIA: expected VL/Strong/P001/Anger/000.jpeg (or OriginalImg/VL/…)"
    )


def load(
    root: str | Path,
    *,
    camera: str = "vis",
    light: str = "strong",
    frames: int = 3,
    preprocessing: Preprocessing | None = None,
) -> FaceSet:
    root = check_root(root, "oulu")
    check_frames(frames, "oulu")
    cam, lit = _choice(camera, CAMERAS, "camera"), _choice(light, LIGHTS, "light")
    base = find_camera_root(root) / cam / lit
    if not base.is_dir():
        raise MffcnnError(f"oulu: no {cam}/{lit}/ folder under {base.parent.parent} (camera {camera}, light {light})")
    summary = PrepareSummary()
    records: list[Record] = []
    short, empty = 0, []
    people = visible_dirs(base)
    if not people:
        raise MffcnnError(f"oulu: {base} holds no person folders (P001/, P002/, …)")
    for person in people:
        for seq_dir in visible_dirs(person):
            label = canonical(seq_dir.name)
            frame_files = sorted(p for p in seq_dir.iterdir() if p.is_file() and not p.name.startswith("."))
            images = [p for p in frame_files if is_image_file(p)]
            if label not in BASIC6:
                for p in images:
                    summary.skip(
                        UNLABELLED,
                        "unknown expression folder",
                        f"{p}: {seq_dir.name!r} is not one of Oulu-CASIA's six expressions; skipped",
                    )
                continue
            if not images:
                empty.append(f"{person.name}/{seq_dir.name}")
                continue
            if len(images) < frames:
                short += 1
            for path in images[-frames:]:
                records.append(
                    Record(path=str(path), label=label, subject=person.name, group=f"{person.name}/{seq_dir.name}")
                )
    summary.notes.append(f"camera {cam}, light {lit}: the last {frames} frames of each sequence")
    if empty:
        summary.notes.append(
            f"{len(empty)} sequence folders hold no images ({', '.join(empty[:3])}{', …' if len(empty) > 3 else ''})"
        )
    if short:
        summary.notes.append(f"{short} sequences have fewer than {frames} frames: all their frames are used")
    return build_faceset("oulu", list(BASIC6), records, preprocessing=preprocessing or PREPROCESSING, summary=summary)
