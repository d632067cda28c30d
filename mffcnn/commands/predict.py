"""`mffcnn predict`: expressions of every face in photos, folders, videos and webcams (library: mffcnn.predict).

Classify every face in images, folders (recursive), video files or a webcam with the bundled model or your own (checkpoint, .onnx, TorchScript).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mffcnn.commands import values
from mffcnn.data.images import MAX_PIXELS, MEGA
from mffcnn.errors import MffcnnError

PRINT_FACES = 20  # face lines printed before "… more in predictions.json"


def register(sub) -> None:
    p = sub.add_parser(
        "predict", help="classify every face in images, folders, videos or a webcam", description=__doc__
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="image, folder, video file, or webcam:N")
    p.add_argument(
        "--model", help="a checkpoint from mffcnn train, or a file from mffcnn export (default: the bundled model)"
    )
    p.add_argument("--onnx", metavar="PATH", help="run this ONNX file with ONNX Runtime (same as --model PATH)")
    p.add_argument(
        "--webcam", type=values.INDEX, metavar="INDEX", help="read camera INDEX (0 = the first) until Ctrl-C"
    )
    p.add_argument(
        "--output-format", "-f", choices=["json", "csv", "all"], default="all", help="what to write (default: all)"
    )
    p.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="folder for predictions.{json,csv} and --save output (default: a new runs/predict/expN)",
    )
    p.add_argument("--save", action="store_true", help="also write annotated images and videos (box, label, score)")
    p.add_argument("--batch-size", type=values.COUNT, default=128, help="faces per network call (default: 128)")
    p.add_argument(
        "--no-detect",
        action="store_true",
        help="the inputs are already face crops: classify each whole image, detect nothing",
    )
    p.add_argument(
        "--min-face",
        type=values.FRACTION,
        metavar="FRACTION",
        help="smallest face to find, as a fraction of the image's shorter side (default: 0.1 with blazeface, "
        "the model's 0.125 with haar; e.g. 0.03 for group photos, slower)",
    )
    add_detector_arg(p)
    add_flip_arg(p)
    p.add_argument("--video-stride", type=values.COUNT, default=1, metavar="N", help="classify every N-th video frame")
    p.add_argument(
        "--video-rescan",
        type=values.COUNT,
        metavar="N",
        help="videos and webcams: search every N-th classified frame for faces in full, the frames between only "
        "near the faces of the frame before and for large faces (default: 10; 1: every frame in full, slower)",
    )
    p.add_argument(
        "--max-frames", type=values.COUNT, metavar="N", help="stop each video or webcam after N classified frames"
    )
    add_tracking(p)
    add_max_megapixels(p, "skip images with more pixels, read from the header before decoding")
    p.add_argument(
        "--threads", type=values.COUNT, help="CPU threads for the network (default: PyTorch's / ONNX Runtime's)"
    )
    p.add_argument("--project", default="runs", help="where run folders go (runs/predict/exp, exp2, …)")
    p.add_argument("--name", default="exp")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no per-face lines")
    p.set_defaults(func=run)


def add_detector_arg(p) -> None:
    """--detector, the face detector of predict and serve (predict.faces.PREDICT_DETECTOR_NAME by default)."""
    p.add_argument(
        "--detector",
        choices=["blazeface", "haar"],
        default="blazeface",
        help="face detector: blazeface (MediaPipe's BlazeFace with landmarks; default) or haar (Viola-Jones, "
        "the paper's, with the model's settings)",
    )


def add_flip_arg(p) -> None:
    """--flip/--no-flip of predict and serve; flip_of(args) reads it (backends.FLIP by default)."""
    p.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        help="average each face's probabilities with its mirror image's: more mean per-class accuracy, twice "
        "the network's time (default: on; --no-flip: one network run per face)",
    )


def flip_of(args) -> bool:
    """--flip/--no-flip as given, else the default (imported only here: backends loads torch)."""
    from mffcnn.predict.backends import FLIP

    return FLIP if args.flip is None else args.flip


def add_tracking(p) -> None:
    """--no-track and --smooth (predict/tracking.py, predict/smoothing.py): videos and webcams only."""
    p.add_argument(
        "--no-track", action="store_true", help="videos: no track id per person (and so no smoothing, no timelines)"
    )
    p.add_argument(
        "--smooth",
        type=values.NON_NEGATIVE,
        default=0.5,  # = predict.smoothing.SMOOTHING, not imported here: the parser loads no torch
        metavar="SECONDS",
        help="videos: time constant of each person's smoothed label, in seconds; 0: raw labels only (default: 0.5)",
    )


def add_max_megapixels(p, what: str) -> None:
    """--max-megapixels, the pixel limit of predict and serve (data.images.MAX_PIXELS)."""
    default = MAX_PIXELS / MEGA
    p.add_argument(
        "--max-megapixels", type=values.POSITIVE, default=default, metavar="MP", help=f"{what} (default: {default:g})"
    )


def run(args) -> int:
    from mffcnn import predict as lib
    from mffcnn.predict.faces import RESCAN_FRAMES
    from mffcnn.runs import new_run_dir

    inputs = list(args.inputs)
    if args.webcam is not None:
        inputs.append(f"webcam:{args.webcam}")
    if not inputs:
        raise MffcnnError("predict needs an input: an image, a folder, a video, or --webcam N")
    if args.model and args.onnx:
        raise MffcnnError("give either --model or --onnx, not both")
    webcam = any(lib.parse_webcam(i) is not None for i in inputs)
    for i in inputs:  # before the model loads: a typo should not cost the start-up time
        if lib.parse_webcam(i) is None and not Path(i).expanduser().exists():
            raise MffcnnError(f"input {i!r} does not exist")
    model = lib.load_model(args.onnx or args.model, threads=args.threads)
    if args.onnx and model.backend != "onnx":
        raise MffcnnError(f"{args.onnx} is not an ONNX file (it is a {model.backend} model); use --model")
    detector = lib.choose_detector(model.preprocessing, args.detector, args.min_face)
    out_dir = Path(args.output) if args.output else new_run_dir(args.project, "predict", args.name)
    write = lib.get_writer(args.output_format, out_dir)

    printed = 0

    def show(r: lib.FrameResult) -> None:
        nonlocal printed
        if args.quiet or r.status == "unreadable":
            return
        where = r.file + (f" frame {r.frame} ({r.time:.2f} s)" if r.frame is not None else "")
        if webcam and r.file.startswith("webcam:"):  # live: one line per frame
            faces = ", ".join(_live(f) for f in r.faces) or "no face"
            print(f"{where}: {faces}", flush=True)
            return
        for f in r.faces:
            printed += 1
            if printed <= PRINT_FACES:
                print(f"{where}: {f.label} {f.score:.2f} at [x, y, w, h] = {f.box}")

    if webcam and not args.quiet:
        print("reading the webcam; Ctrl-C stops and writes the results", file=sys.stderr)
    interrupted = False
    try:
        result = lib.predict(
            inputs,
            model=model,
            batch_size=args.batch_size,
            detect=not args.no_detect,
            detector=detector,
            flip=flip_of(args),
            video_stride=args.video_stride,
            video_rescan=args.video_rescan or RESCAN_FRAMES,
            max_frames=args.max_frames,
            save_dir=out_dir if args.save else None,
            progress=not args.quiet,
            on_frame=show,
            max_pixels=round(args.max_megapixels * MEGA),
            track=not args.no_track,
            smoothing=args.smooth,
        )
    except lib.Interrupted as stopped:  # Ctrl-C: every prediction made so far is written, marked partial
        result, interrupted = stopped.predictions, True
    paths = write(result)
    if printed > PRINT_FACES:
        print(f"… {printed - PRINT_FACES} more faces in {paths[0]}")
    print(result.summary.line())
    saved = " and annotated images" if args.save else ""
    print(
        f"results{saved}: {', '.join(str(p) for p in paths)}"
        if not args.save
        else f"results{saved}: {out_dir}/ ({', '.join(p.name for p in paths)})"
    )
    if interrupted:
        print("mffcnn: interrupted: the results so far are written, marked partial", file=sys.stderr)
        return 130
    return 0


def _live(f) -> str:
    """One face of a webcam frame: its track and smoothed label, when it has them, before the raw one."""
    who = f"#{f.track} " if f.track is not None else ""
    steady = f"{f.smoothed_label} {f.smoothed_score:.2f} (raw {f.label} {f.score:.2f})" if f.smoothed_label else ""
    return f"{who}{steady or f'{f.label} {f.score:.2f}'} at {f.box}"
