"""Faces found by the Haar cascade and by BlazeFace, and the time per frame of each (issue "Find every face").

    python bench/face_detectors.py --jaffe ../shared/data/jaffe --affectnet ../shared/data/affectnet/valid \\
        [--ferplus ../shared/data/ferplus/FER2013Valid] [--sfew ../shared/data/sfew2/Val] [--repeats 15] \\
        [--out BENCHMARKS.md]

Rows: JAFFE's 213 photos; AffectNet's validation faces (96×96 grey crops with hair and background), and with
--ferplus and --sfew FER+ Valid's 48×48 web crops and SFEW 2.0 Val's film crops (blank files left out), looked
at as photos (detect, as predict looks at a folder of crops; BlazeFace's count without its close-up look
beside it) and as loose crops (the prepare path of `align="eyes"` with detection off: a border added, one face
or the fallback); the sample photo; and the synthetic scenes of bench/face_scenes.py (the sample
face pasted on generated canvases: wide canvases and HD frames, faces at 10 % of the shorter side, turned in
plane, at the border, eight at once). A synthetic face counts as found when a detection lies on it
(face_scenes.matched); "more" counts detections beyond the true faces (false alarms). Haar runs with predict's
settings (data.face.PREDICT_DETECTOR, 0.125 of the shorter side), BlazeFace with its defaults (0.1).

Also: the smallest face found in a 640×480 and a 1920×1080 frame (sizes swept, each at four places), the
in-plane angle BlazeFace still finds with and without the turned retry, and the face geometry the code's
constants come from (data/detectors.py HAAR_BOX_FROM_BLAZEFACE, data/align.py), measured on JAFFE.

Times: medians of the detection alone per image, 1 thread (OpenCV and ONNX Runtime), wall clock, on a shared
machine (the load average is printed; read the times as upper bounds).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv2  # noqa: E402
import face_scenes  # noqa: E402
import numpy as np  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.data import align  # noqa: E402
from mffcnn.data.blazeface import BlazeFaceSettings, detect_blazeface  # noqa: E402
from mffcnn.data.detectors import HAAR_BOX_FROM_BLAZEFACE, LOOSE_SCORE, Face, detect  # noqa: E402
from mffcnn.data.face import PREDICT_DETECTOR, DetectorSettings, detect_faces  # noqa: E402
from mffcnn.data.images import IMAGE_SUFFIXES, read_grey  # noqa: E402
from mffcnn.data.preprocess import Preprocessing, align_faces  # noqa: E402

HAAR, BLAZE = PREDICT_DETECTOR, BlazeFaceSettings()
LOOSE = Preprocessing(detect_face=False, face_detector="blazeface", align="eyes")


def images_under(folder: str) -> list[Path]:
    return [p for p in sorted(Path(folder).rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]


def timed_detect(images: list[np.ndarray], settings) -> tuple[list[list[Face]], float]:
    """Detections of every image and the median ms per image (each image once; the first is run twice, so
    loading the model is not timed)."""
    detect(images[0], settings)
    found, times = [], []
    for g in images:
        t = time.perf_counter()
        found.append(detect(g, settings))
        times.append(time.perf_counter() - t)
    return found, 1e3 * float(np.median(times))


def repeat_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def dataset_rows(photos: list[tuple[str, list[np.ndarray]]], loose: list[tuple[str, list[np.ndarray]]]) -> list[str]:
    """Rows of the datasets' table: each set of photos by both detectors (BlazeFace's count without its
    close-up look beside it), and each set of face crops as prepare cuts loose crops (found at the score bar,
    found with the second look at LOOSE_SCORE, the rest cut whole with the fallback geometry)."""
    rows = []
    plain = replace(BLAZE, close_up=False)
    for name, images in photos:
        cells = [f"| {name} | {len(images):,} |"]
        for settings in (HAAR, BLAZE):
            found, ms = timed_detect(images, settings)
            n = sum(bool(f) for f in found)
            more = sum(max(0, len(f) - 1) for f in found)  # every image holds one face
            extra = ""
            if settings is BLAZE:
                without = sum(bool(detect(g, plain)) for g in images)
                extra = f"; {without:,} without the close-up look"
            cells.append(f" {n:,} ({100 * n / len(images):.1f} %){extra} | {more:,} | {ms:.2f} |")
        rows.append("".join(cells))
    for name, images in loose:
        t = time.perf_counter()
        aligned = [align_faces(g, LOOSE)[0] for g in images]
        ms = 1e3 * (time.perf_counter() - t) / len(images)
        n = sum(f.found for f in aligned)
        # a face of the second look scores under the bar (one over it would have been found by the first)
        at_bar = sum(f.found and f.face.score >= BLAZE.score for f in aligned)
        rows.append(
            f"| {name}, as loose crops (prepare, `align=eyes`) | {len(images):,} | | | | {n:,} "
            f"({100 * n / len(images):.1f} %): {at_bar:,} at score ≥ {BLAZE.score}, {n - at_bar:,} more at ≥ "
            f"{LOOSE_SCORE}; fallback geometry for {len(images) - n:,} | | {ms:.2f} (with the crop) |"
        )
    return rows


def scene_rows(scenes: list[face_scenes.Scene], repeats: int) -> list[str]:
    rows = []
    for s in scenes:
        cells = [f"| {s.name} | {len(s.faces)} |"]
        for settings in (HAAR, BLAZE):
            found = detect(s.grey, settings)
            hit = face_scenes.matched([f.box for f in found], s.faces)
            ms = repeat_ms(lambda s=s, settings=settings: detect(s.grey, settings), repeats)
            cells.append(f" {hit} | {len(found) - hit} | {ms:.1f} |")
        rows.append("".join(cells))
    return rows


def smallest_found(w: int, h: int, sizes: range) -> tuple[int | None, dict]:
    """The smallest face size (px) found at all four places in a w×h frame, sweeping up; per size, places found."""
    places = [(0.3, 0.3), (0.7, 0.35), (0.35, 0.7), (0.65, 0.65)]
    hits = {}
    for size in sizes:
        n = 0
        for i, (fx, fy) in enumerate(places):
            s = face_scenes.one_face(w, h, size, at=(fx * w, fy * h), seed=10 + i)
            n += face_scenes.matched([f.box for f in detect(s.grey, BLAZE)], s.faces) == 1
        hits[size] = n
    ok = [size for size in sizes if all(hits[z] == len(places) for z in sizes if z >= size)]
    return (min(ok) if ok else None), hits


def tenth_rows() -> list[str]:
    """Faces of 10 % of the shorter side at 12 random places in each frame size: how many BlazeFace finds."""
    rng = np.random.default_rng(1)
    rows = []
    for w, h in ((640, 480), (1280, 720), (1920, 1080)):
        size, hits, more = int(0.1 * h), 0, 0
        for i in range(12):
            at = (rng.uniform(size, w - size), rng.uniform(size, h - size))
            s = face_scenes.one_face(w, h, size, at=at, seed=20 + i)
            d = detect_blazeface(s.grey, BLAZE)
            hit = face_scenes.matched([f.box for f in d], s.faces)
            hits, more = hits + hit, more + len(d) - hit
        rows.append(f"| {w}×{h} | {size} px | {hits}/12 | {more} |")
    return rows


def angle_rows() -> list[str]:
    rows = []
    for angle in (-90, -75, -60, -45, -30, 30, 45, 60, 75, 90):
        s = face_scenes.one_face(640, 480, 150, angle=angle, seed=4)
        cells = [f"| {angle:+d}° |"]
        for retry in (False, True):
            d = detect_blazeface(s.grey, BlazeFaceSettings(retry_rotated=retry))
            cells.append(" found |" if face_scenes.matched([f.box for f in d], s.faces) else " missed |")
        rows.append("".join(cells))
    return rows


def geometry(jaffe: list[np.ndarray]) -> list[str]:
    """The medians behind the code's constants, on the JAFFE photos where both detectors find the face."""
    cols = {k: [] for k in ("side", "below", "mouth", "k", "dx", "dy")}
    for g in jaffe:
        h = detect_faces(g, DetectorSettings())
        b = detect_blazeface(g, BlazeFaceSettings(retry_rotated=False))
        if not h or not b:
            continue
        h, b = h[0], b[0]
        eye_a, eye_b, mouth = b.landmarks[0], b.landmarks[1], b.landmarks[3]
        mid, de = (eye_a + eye_b) / 2, float(np.hypot(*(eye_b - eye_a)))
        cols["side"].append(h.w / de)
        cols["below"].append((h.y + h.h / 2 - mid[1]) / de)
        cols["mouth"].append(float(np.hypot(*(mouth - mid))) / de)
        cols["k"].append(h.w / b.box.w)
        cols["dx"].append((h.x + h.w / 2 - b.box.x - b.box.w / 2) / b.box.w)
        cols["dy"].append((h.y + h.h / 2 - b.box.y - b.box.h / 2) / b.box.w)
    med = {k: float(np.median(v)) for k, v in cols.items()}
    code = {
        "side": align.BOX_SIDE_EYES,
        "below": align.BOX_CENTRE_BELOW_EYES,
        "mouth": align.EYE_MOUTH_RATIO,
        "k": HAAR_BOX_FROM_BLAZEFACE[0],
        "dx": HAAR_BOX_FROM_BLAZEFACE[1],
        "dy": HAAR_BOX_FROM_BLAZEFACE[2],
    }
    what = {
        "side": "Viola-Jones box side / eye distance (align.BOX_SIDE_EYES)",
        "below": "box centre below the eyes' midpoint / eye distance (align.BOX_CENTRE_BELOW_EYES)",
        "mouth": "eye midpoint to mouth / eye distance (align.EYE_MOUTH_RATIO)",
        "k": "Viola-Jones box side / BlazeFace box side (HAAR_BOX_FROM_BLAZEFACE[0])",
        "dx": "box centre shift x / BlazeFace side (HAAR_BOX_FROM_BLAZEFACE[1])",
        "dy": "box centre shift y / BlazeFace side (HAAR_BOX_FROM_BLAZEFACE[2])",
    }
    lines = [
        f"Face geometry on the {len(cols['side'])} JAFFE photos where both find the face (medians; the code's "
        "constant beside it):",
        "",
        "| quantity | measured | in the code |",
        "|---|---:|---:|",
    ]
    lines += [f"| {what[k]} | {med[k]:.3f} | {code[k]:.3f} |" for k in what]
    eye_distance = 1 / med["side"]
    eye_y = 0.5 - med["below"] / med["side"]
    lines += [
        "",
        f"So a margin-0 Viola-Jones crop has the eyes {eye_distance:.3f} of its side apart and the eye line at "
        f"{eye_y:.3f} of its height: the aligned crop's defaults are eye_distance {align.EYE_DISTANCE} and "
        f"eye_y {align.EYE_Y}.",
    ]
    return lines


def frame_rows(repeats: int) -> list[str]:
    """ms per 640×480 frame with one face (bench/speed.py's frame: the sample photo scaled to 480 rows): grey →
    detect → crop (box, or aligned) → classify, by predict's own find_faces, at 1 thread and at every core."""
    import tempfile

    import torch
    from speed import benchmark_frame, set_threads, timed

    from mffcnn.export import export
    from mffcnn.predict import load_model
    from mffcnn.predict.faces import choose_detector, find_faces

    frame = benchmark_frame()
    bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export(None, out=Path(tmp) / "model.onnx").path
        for threads in sorted({1, cores}):
            set_threads(threads)
            for backend, path in (("ONNX Runtime", onnx_path), ("PyTorch", None)):
                model = load_model(path, threads=threads)
                for crop in ("box", "eyes"):
                    pre = model.preprocessing.replace(align=crop)
                    for name in ("haar", "blazeface"):
                        d = choose_detector(pre, name)

                        def once(model=model, pre=pre, d=d):
                            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
                            _, crops = find_faces(grey, pre, detector=d)
                            return model.probabilities(np.stack(crops)) if crops else None

                        n = len(find_faces(frame, pre, detector=d)[0])
                        wall, cpu = timed(once, repeats=repeats, inner=3)
                        rows.append(
                            f"| {backend} | {threads} | {name} | {crop} | {n} | {1e3 * wall:.1f} | {1e3 * cpu:.1f} |"
                        )
    torch.set_num_threads(cores)
    return rows


def percent(size: int | None, side: int) -> str:
    return "none found" if size is None else f"{100 * size / side:.1f} %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jaffe", required=True, help="the JAFFE folder")
    ap.add_argument("--affectnet", required=True, help="AffectNet's valid folder (class sub-folders of 96×96 images)")
    ap.add_argument("--ferplus", help="FER+'s FER2013Valid folder (48×48 web crops)")
    ap.add_argument("--sfew", help="SFEW 2.0's Val folder (class sub-folders of film crops)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    start = time.perf_counter()
    jaffe = [read_grey(p) for p in sorted(Path(args.jaffe).glob("*.tiff"))]
    affectnet = [read_grey(p) for p in images_under(args.affectnet)]
    if not jaffe or not affectnet:
        sys.exit(f"bench/face_detectors.py: no images in {args.jaffe if not jaffe else args.affectnet}")
    photos = [("JAFFE photos", jaffe), ("AffectNet valid, as photos", affectnet)]
    loose = [("AffectNet valid", affectnet)]
    for name, folder in (("FER+ Valid (48×48 web crops)", args.ferplus), ("SFEW 2.0 Val (film crops)", args.sfew)):
        if folder:
            crops = [g for g in map(read_grey, images_under(folder)) if g.std() >= 1]  # blank files hold no face
            photos.append((f"{name}, as photos", crops))
            loose.append((name, crops))
    sample = face_scenes.sample_face()[0]
    data_rows = dataset_rows(photos, loose)
    scenes = [face_scenes.Scene("the sample photo (512×512)", sample, [face_scenes.sample_face()[1]])]
    scenes += face_scenes.scenes()
    small_640, hits_640 = smallest_found(640, 480, range(30, 62, 2))
    small_hd, hits_hd = smallest_found(1920, 1080, range(70, 132, 4))
    header = (
        "| images | faces | Haar: found | Haar: more | Haar: ms per image | BlazeFace: found | BlazeFace: more | "
        "BlazeFace: ms per image |"
    )
    lines = [
        f"Haar: OpenCV's cascade with predict's settings (scale factor {HAAR.scale_factor}, image shrunk to "
        f"{HAAR.max_side} px, smallest face {HAAR.min_size:g} of the shorter side). BlazeFace: MediaPipe's "
        f"short-range model by ONNX Runtime, score ≥ {BLAZE.score}, smallest face {BLAZE.min_size:g} of the shorter "
        f"side{', turned ±30° when nothing is found' if BLAZE.retry_rotated else ''}. 1 thread; load average {os.getloadavg()[0]:.1f} at the start "
        "(a shared machine: times are upper bounds).",
        "",
        header,
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *data_rows,
        "",
        "Synthetic scenes (bench/face_scenes.py: the sample photo's face pasted on generated canvases; found: true "
        "faces a detection lies on; more: other detections):",
        "",
        "| scene | faces | Haar: found | Haar: more | Haar: ms | BlazeFace: found | BlazeFace: more | BlazeFace: ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *scene_rows(scenes, args.repeats),
        "",
        f"Smallest face BlazeFace finds at all of four places (and at every larger size swept): {small_640} px in "
        f"640×480 ({percent(small_640, 480)} of the shorter side; found per size: "
        + ", ".join(f"{k} px {v}/4" for k, v in hits_640.items())
        + f"), {small_hd} px in 1920×1080 ({percent(small_hd, 1080)}; "
        + ", ".join(f"{k} px {v}/4" for k, v in hits_hd.items())
        + ").",
        "",
        "Faces of 10 % of the shorter side at 12 random places of each frame (BlazeFace, defaults):",
        "",
        "| frame | face | found | more |",
        "|---|---:|---:|---:|",
        *tenth_rows(),
        "",
        "In-plane turn of a 150 px face in 640×480 (BlazeFace upright only, the default, and with the ±30° retry, "
        "`retry_rotated`):",
        "",
        "| angle | upright only | with the retry |",
        "|---|---|---|",
        *angle_rows(),
        "",
        *geometry(jaffe),
        "",
        "### One 640×480 frame with one face: detection + crop + classification",
        "",
        "bench/speed.py's frame (the sample photo scaled to 480 rows, a 92 px face); predict's find_faces and the "
        "bundled model, exported to ONNX for the ONNX Runtime rows; *box*: the model's own crop (the box with the "
        f"checkpoint's margin), *eyes*: the aligned crop. Medians of {args.repeats} × 3 frames; CPU ms: "
        "the process's CPU time, all threads.",
        "",
        "| classifier | threads | detector | crop | faces | ms per frame | CPU ms |",
        "|---|---:|---|---|---:|---:|---:|",
        *frame_rows(args.repeats),
        "",
        f"Run time {time.perf_counter() - start:.0f} s.",
    ]
    write_section(args.out, "face_detectors", "Faces found: Haar against BlazeFace", lines)


if __name__ == "__main__":
    main()
