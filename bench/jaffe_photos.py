"""JAFFE's photos with their labels, and their largest Viola-Jones faces cropped as predict crops them
(helpers of the bench scripts that test a model on photos it was not trained on).

File names are parsed by the JAFFE loader (mffcnn/data/jaffe.py); unlike the loader, these helpers keep
each photo whole, so that detection and cropping are predict's own.
"""

from __future__ import annotations

from pathlib import Path

from mffcnn.data.datasets.jaffe import CODES, parse_name


def jaffe_photos(root: str | Path, *, neutral: bool = False) -> list[tuple[Path, str, str]]:
    """(path, label, subject) of every JAFFE photo, sorted; neutral ones only when asked."""
    root = Path(root)
    if not root.is_dir():
        raise SystemExit(f"JAFFE folder {root} does not exist")
    photos = []
    for path in sorted(root.iterdir()):
        parsed = parse_name(path.name)
        if parsed is None or parsed[1] not in CODES:
            continue
        subject, code = parsed
        label = CODES[code]
        if label == "neutral" and not neutral:
            continue
        photos.append((path, label, subject))
    if not photos:
        raise SystemExit(f"{root}: no JAFFE photos (names like KA.AN1.39.tiff)")
    return photos


def largest_faces(paths, preprocessing, detector=None):
    """For each photo the largest Viola-Jones face, cropped as predict crops it: (crops (n, S, S) uint8,
    boxes [x, y, w, h] or None, found (n,) bool). A photo without a face gets a blank crop and found=False."""
    import numpy as np

    from mffcnn.data.face import crop_box, detect_faces
    from mffcnn.data.images import read_grey

    size = preprocessing.size
    crops, boxes, found = [], [], []
    for path in paths:
        grey = read_grey(path)
        faces = detect_faces(grey, detector or preprocessing.detector)  # largest first
        if faces:
            crops.append(crop_box(grey, faces[0], margin=preprocessing.margin, size=size))
            boxes.append(faces[0].to_list())
        else:
            crops.append(np.zeros((size, size), np.uint8))
            boxes.append(None)
        found.append(bool(faces))
    return np.stack(crops), boxes, np.array(found)


def per_class(y_true, y_pred, classes) -> dict[str, float]:
    """Accuracy of each class present in y_true (label strings)."""
    import numpy as np

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {c: float((y_pred[y_true == c] == c).mean()) for c in classes if (y_true == c).any()}
