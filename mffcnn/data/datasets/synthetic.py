"""A synthetic expression dataset drawn in code: the embedded default that needs no data.

Grey 60×60 cartoon faces, one of the 6 basic expressions each, built from the facial actions
that define them (FACS, paper §4.3): brows lowered and drawn together (anger), nose wrinkled and
upper lip raised (disgust), brows raised and pulled together with wide eyes and a stretched
mouth (fear), mouth corners up and cheeks raised (happy), inner brows up and mouth corners down
(sadness), brows high with a dropped jaw (surprise).

It is learnable but not trivial: every expression is shown at a random intensity (weak ones
resemble neutral and each other, like fear and surprise), each subject has resting quirks that
mimic expressions, and identity, pose, lighting, blur and noise vary. Same seed, same images.
It stands in for real data in demos and tests only; results on it say "synthetic".
"""

from __future__ import annotations

import cv2
import numpy as np

from mffcnn.data.faceset import FaceSet, Record, build_faceset
from mffcnn.data.preprocess import Preprocessing

CLASSES = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]
PREPROCESSING = Preprocessing(detect_face=False)  # drawn as face crops

# Facial-action parameters: brow raise, brow tilt (+ = inner ends up), eye opening, mouth curve
# (+ = corners up), mouth opening, mouth width, nose wrinkle, upper-lip raise, cheek raise.
_PARAMS = ("brow", "tilt", "eye", "curve", "open", "width", "wrinkle", "lip", "cheek")
_NEUTRAL = np.array([0, 0, 1, 0, 0, 1, 0, 0, 0], dtype=float)
_DELTAS = {
    "anger": [-0.6, -1.0, -0.15, -0.25, 0.0, -0.15, 0.2, 0.0, 0.0],
    "disgust": [-0.35, -0.5, -0.3, -0.45, 0.15, -0.05, 1.0, 0.8, 0.4],
    "fear": [0.6, 0.7, 0.45, -0.2, 0.45, 0.15, 0.0, 0.0, 0.0],
    "happy": [0.05, 0.0, -0.2, 1.0, 0.35, 0.25, 0.0, 0.0, 0.9],
    "sadness": [0.1, 1.0, -0.25, -0.8, 0.0, -0.05, 0.0, 0.0, 0.0],
    "surprise": [1.0, 0.1, 0.6, 0.0, 1.0, -0.25, 0.0, 0.0, 0.0],
}
_SCALE = 4  # draw at 4× and shrink: anti-aliased, sub-pixel geometry


def _identity(rng: np.random.Generator) -> dict:
    return {
        "face_w": rng.uniform(0.29, 0.35),
        "face_h": rng.uniform(0.38, 0.45),
        "skin": rng.uniform(125, 205),
        "background": rng.uniform(15, 110),
        "hair": rng.uniform(10, 70) if rng.random() < 0.8 else None,
        "eye_gap": rng.uniform(0.10, 0.135),
        "eye_y": rng.uniform(0.40, 0.45),
        "eye_w": rng.uniform(0.040, 0.055),
        "brow_gap": rng.uniform(0.045, 0.065),
        "brow_thick": rng.uniform(0.010, 0.022),
        "nose_y": rng.uniform(0.58, 0.62),
        "mouth_y": rng.uniform(0.71, 0.76),
        "mouth_w": rng.uniform(0.09, 0.125),
        "quirk": rng.normal(0, 0.15, len(_PARAMS)),  # resting expression of this person
    }


def draw_face(ident: dict, action: np.ndarray, rng: np.random.Generator, size: int = 60) -> np.ndarray:
    """Draw one face with the given action parameters; returns size×size uint8."""
    brow, tilt, eye, curve, open_, width, wrinkle, lip, cheek = action
    n = size * _SCALE
    px = lambda v: int(round(v * n * 16))  # cv2 drawing with 4 fractional bits
    pt = lambda x, y: (px(x), px(y))
    aa, sh = cv2.LINE_AA, 4

    canvas = np.full((n, n), ident["background"], np.float32)
    skin = ident["skin"]
    dark = max(skin - 95, 5)
    if ident["hair"] is not None:
        cv2.ellipse(
            canvas,
            pt(0.5, 0.44),
            (px(ident["face_w"] + 0.03), px(ident["face_h"] + 0.04)),
            0,
            180,
            360,
            ident["hair"],
            -1,
            aa,
            sh,
        )
    cv2.ellipse(canvas, pt(0.5, 0.52), (px(ident["face_w"]), px(ident["face_h"])), 0, 0, 360, skin, -1, aa, sh)

    ey, ew = ident["eye_y"], ident["eye_w"]
    eh = max(ew * 0.42 * max(eye, 0.15), 0.006)
    for side in (-1, 1):
        ex = 0.5 + side * ident["eye_gap"]
        cv2.ellipse(canvas, pt(ex, ey), (px(ew), px(eh)), 0, 0, 360, min(skin + 45, 255), -1, aa, sh)
        cv2.circle(canvas, pt(ex, ey), px(min(eh, ew * 0.5)), dark * 0.4, -1, aa, sh)
        cv2.ellipse(canvas, pt(ex, ey), (px(ew), px(eh)), 0, 180, 360, dark, px(0.008) // 16 + 1, aa, sh)
        # Brow: inner end near the nose, outer end beyond the eye; raise lifts both, tilt the inner one.
        by = ey - ident["brow_gap"] - 0.035 * brow
        inner = (0.5 + side * (ident["eye_gap"] - ew * 0.9 - 0.012 * max(-tilt, 0)), by - 0.03 * tilt)
        outer = (0.5 + side * (ident["eye_gap"] + ew * 1.25), by + 0.01 * tilt)
        cv2.line(canvas, pt(*inner), pt(*outer), dark * 0.7, max(px(ident["brow_thick"]) // 16, 1), aa, sh)
        if cheek > 0.2:  # raised cheeks: folds from the nose wings toward the mouth corners
            c = skin - 45 * min(cheek, 1.2)
            cv2.ellipse(
                canvas,
                pt(0.5 + side * 0.075, ident["mouth_y"] - 0.06),
                (px(0.035), px(0.06)),
                0,
                90 - side * 60,
                90 + side * 30,
                c,
                max(px(0.007) // 16, 1),
                aa,
                sh,
            )

    ny = ident["nose_y"]
    cv2.line(canvas, pt(0.5, ey + 0.03), pt(0.5, ny), skin - 30, max(px(0.006) // 16, 1), aa, sh)
    for side in (-1, 1):
        cv2.ellipse(canvas, pt(0.5 + side * 0.022, ny), (px(0.012), px(0.006)), 0, 0, 360, skin - 70, -1, aa, sh)
    if wrinkle > 0.25:  # nose wrinkle (AU9): short creases across the bridge
        c = skin - 55 * min(wrinkle, 1.3)
        for k in range(3):
            y = ey + 0.015 + k * 0.018
            cv2.line(canvas, pt(0.47, y), pt(0.53, y - 0.006), c, max(px(0.005) // 16, 1), aa, sh)

    # Mouth: corners move up with curve; the lower lip drops with opening; lip raise lifts the upper lip.
    my, mw = ident["mouth_y"], ident["mouth_w"] * max(width, 0.4)
    corner_y = my - 0.035 * curve
    upper_mid = my - 0.02 * lip - 0.01 * open_
    lower_mid = my + 0.055 * max(open_, 0) + 0.012 * max(curve, 0)
    xs = np.linspace(-1, 1, 21)
    upper = [(0.5 + mw * x, corner_y + (upper_mid - corner_y) * (1 - x * x)) for x in xs]
    lower = [(0.5 + mw * x, corner_y + (lower_mid - corner_y) * (1 - x * x)) for x in xs]
    lips = np.array([pt(*p) for p in upper + lower[::-1]], np.int32)
    if open_ > 0.12:
        cv2.fillPoly(canvas, [lips], dark * 0.3, aa, sh)
        if curve > 0.4:  # a smile shows the upper teeth
            teeth = np.array([pt(*p) for p in upper + [(0.5 + mw * x * 0.8, upper_mid + 0.012) for x in xs[::-1]]])
            cv2.fillPoly(canvas, [teeth.astype(np.int32)], min(skin + 40, 250), aa, sh)
    cv2.polylines(canvas, [lips], True, dark * 0.5, max(px(0.012) // 16, 1), aa, sh)

    # Pose: in-plane rotation, scale and shift.
    # Zoomed so the face fills the frame like a Viola-Jones crop.
    angle, scale = rng.uniform(-12, 12), rng.uniform(1.15, 1.4)
    m = cv2.getRotationMatrix2D((n / 2, n / 2), angle, scale)
    m[:, 2] += rng.uniform(-0.04, 0.04, 2) * n
    canvas = cv2.warpAffine(canvas, m, (n, n), borderMode=cv2.BORDER_REPLICATE)

    # Lighting: a directional gradient and a gamma; then the camera: blur and noise.
    theta, strength = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.5)
    yy, xx = np.mgrid[0:n, 0:n] / n - 0.5
    canvas *= 1 + strength * (np.cos(theta) * xx + np.sin(theta) * yy)
    canvas = 255 * (np.clip(canvas, 0, 255) / 255) ** rng.uniform(0.7, 1.4)
    face = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    face = cv2.GaussianBlur(face, (0, 0), rng.uniform(0.3, 1.0))
    face += rng.normal(0, rng.uniform(2, 10), face.shape)
    return np.clip(face, 0, 255).round().astype(np.uint8)


def expression_action(ident: dict, label: str, rng: np.random.Generator) -> np.ndarray:
    intensity = rng.uniform(0.4, 1.0)
    jitter = rng.normal(0, 0.12, len(_PARAMS))
    return _NEUTRAL + intensity * np.asarray(_DELTAS[label]) + ident["quirk"] + jitter


def generate(*, subjects: int = 30, per_class: int = 5, seed: int = 0, size: int = 60):
    """Yield (face, label, subject, name) deterministically from the seed."""
    for s in range(subjects):
        ident = _identity(np.random.default_rng([seed, s]))
        for c, label in enumerate(CLASSES):
            for k in range(per_class):
                rng = np.random.default_rng([seed, s, c, k])
                face = draw_face(ident, expression_action(ident, label, rng), rng, size)
                yield face, label, f"P{s:03d}", f"synthetic/P{s:03d}/{label}/{k}"


def load(
    *, subjects: int = 30, per_class: int = 5, seed: int = 0, preprocessing: Preprocessing | None = None
) -> FaceSet:
    """The synthetic set: subjects × 6 classes × per_class faces (900 by default, about CK+'s 927)."""
    preprocessing = preprocessing or PREPROCESSING
    records = (
        Record(path=name, label=label, subject=subject, image=face)
        for face, label, subject, name in generate(
            subjects=subjects, per_class=per_class, seed=seed, size=preprocessing.size
        )
    )
    return build_faceset("synthetic", CLASSES, records, preprocessing=preprocessing, synthetic=True)
