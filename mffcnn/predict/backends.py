"""Every kind of model file behind one interface (as ultralytics' AutoBackend): a checkpoint run by PyTorch,
an exported ONNX file run by ONNX Runtime, an exported TorchScript file. None of them unpickles code.

A backend turns face crops into class probabilities and knows the class names and the preprocessing its
training used. export.py imports this module (and faces.py) only, never the prediction pipeline. PyTorch is
imported only to run a checkpoint or a TorchScript file: the bundled model runs from its ONNX export, so
`mffcnn predict` with it never loads torch (its import is most of the command's start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PACKAGE = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = PACKAGE / "weights" / "default.safetensors"
# The bundled model exported to ONNX (`mffcnn export --out mffcnn/weights/default.onnx`; tests/test_predict.py
# checks that it is the same model): what load_model() runs, since ONNX Runtime (a dependency already, for
# BlazeFace) classifies a face several times faster than PyTorch here (BENCHMARKS.md, "mffcnn vs fer"). The
# checkpoint stays the model's source: training, evaluation, Grad-CAM and export read it.
DEFAULT_ONNX = PACKAGE / "weights" / "default.onnx"
SAMPLE_IMAGE = PACKAGE / "samples" / "astronaut.png"  # NASA, public domain


# predict's and serve's default: each face is classified with its mirror image too (Backend.probabilities'
# flip). On the bundled model it raises the mean per-class accuracy of every held-out source of
# bench/cross_source.py (the `+ flip TTA` rows; it helped most of the suite's models on each), and it costs one
# more network run per face, a small part of a photo's time (the face detector's is most of it). A general
# correction (faces are nearly symmetric; the training jitter flips them), not one tuned to any set. --no-flip
# turns it off where the network's time is what counts (face crops with --no-detect).
FLIP = True


class Backend:
    """A loaded classifier: its class names and preprocessing, and faces → probabilities."""

    def __init__(
        self,
        *,
        class_names: list[str],
        preprocessing: Preprocessing,
        info: dict,
        backend: str,
        path: Path,
        run: Callable[[np.ndarray], np.ndarray],
    ):
        self.class_names = list(class_names)
        self.preprocessing = preprocessing
        self.info = info
        self.backend = backend  # "pytorch", "onnx" or "torchscript"
        self.path = path
        self._run = run

    def probabilities(self, faces: np.ndarray, *, flip: bool = False) -> np.ndarray:
        """(n, S, S) uint8 face crops → (n, C) float32 class probabilities. flip: the mean of each face's and its
        mirror image's (horizontal-flip test-time averaging: twice the network's time, and about one point more
        mean per-class accuracy on every held-out source of bench/cross_source.py for the bundled model)."""
        if len(faces) == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        if flip:
            both = self.probabilities(np.concatenate([faces, faces[:, :, ::-1]]))
            return (both[: len(faces)] + both[len(faces) :]) / 2
        x = np.ascontiguousarray(faces, dtype=np.float32)[:, None]  # (n, 1, S, S), 0–255
        return np.asarray(self._run(x), dtype=np.float32)

    def describe(self) -> dict:
        """What the output files say about the model that made them."""
        info = self.info or {}
        described = {
            "path": str(self.path),
            "bundled": self.path.resolve() in (DEFAULT_MODEL.resolve(), DEFAULT_ONNX.resolve()),
            "backend": self.backend,
            "class_names": self.class_names,
            "trained_on": info.get("trained_on") or info.get("dataset"),
            "preprocessing": self.preprocessing.to_dict(),
        }
        if info.get("quantization"):  # an int8 file from `mffcnn export --int8`
            described["quantization"] = info["quantization"]
        return described

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, backend={self.backend!r}, classes={self.class_names})"


def resolve_model_path(path: str | Path | None) -> Path:
    """None → the bundled default model, with a clear error when an install lacks it."""
    if path is None:
        if not DEFAULT_MODEL.is_file():
            raise MffcnnError(
                f"the bundled model is missing from this install ({DEFAULT_MODEL}); "
                "reinstall mffcnn or pass --model PATH"
            )
        return DEFAULT_MODEL
    path = Path(path).expanduser()
    if not path.is_file():
        raise MffcnnError(f"model {str(path)!r} does not exist")
    return path


def _sniff(path: Path) -> str:
    """Which kind of model file this is, from its first bytes (suffixes lie)."""
    with open(path, "rb") as f:
        head = f.read(9)
    if head.startswith(b"PK\x03\x04"):
        return "torchscript"  # a zip archive
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"  # 8-byte header length, then the JSON header
    if path.suffix.lower() == ".onnx":
        return "onnx"
    return "safetensors"  # let the checkpoint loader explain what is wrong with it


def load_backend(path: str | Path | None = None, *, threads: int | None = None, kind: type[Backend] = Backend):
    """Load the bundled model (path=None), an mffcnn checkpoint (.safetensors), an exported ONNX file or an
    exported TorchScript file, as a `kind` (a Backend or a subclass of it). The bundled model runs from its ONNX
    export when the install has it (DEFAULT_ONNX), from the checkpoint otherwise."""
    if path is None and DEFAULT_ONNX.is_file() and DEFAULT_MODEL.is_file():
        return kind(path=DEFAULT_ONNX, **_load_onnx(DEFAULT_ONNX, threads=threads))
    path = resolve_model_path(path)
    loader = {"onnx": _load_onnx, "torchscript": _load_torchscript}.get(_sniff(path), _load_checkpoint)
    return kind(path=path, **loader(path, threads=threads))


def _load_checkpoint(path: Path, *, threads: int | None) -> dict:
    import torch

    from mffcnn.checkpoint import load_checkpoint
    from mffcnn.predict.inference import InferenceModel

    if threads:
        torch.set_num_threads(threads)
    ckpt = load_checkpoint(path)
    # channels_last: the layout oneDNN's CPU convolutions are fastest in (bench/ferplus_speed.py times both).
    net = InferenceModel(ckpt.model, ckpt.preprocessing.normalisation).eval().to(memory_format=torch.channels_last)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(x).contiguous(memory_format=torch.channels_last)).numpy()

    return dict(
        class_names=ckpt.class_names, preprocessing=ckpt.preprocessing, info=ckpt.info, backend="pytorch", run=run
    )


def _from_metadata(path: Path, raw: str | None) -> dict:
    from mffcnn.checkpoint import parse_description

    meta = parse_description(raw)
    if meta is None:
        raise MffcnnError(f"{path} was not exported by mffcnn export (it carries no class names or preprocessing)")
    try:
        return dict(
            class_names=list(meta["class_names"]),
            preprocessing=Preprocessing.from_dict(meta["preprocessing"]),
            info=meta.get("info", {}),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise MffcnnError(f"{path}: its mffcnn metadata is damaged ({e})") from None


def _load_onnx(path: Path, *, threads: int | None) -> dict:
    try:
        import onnxruntime as ort
    except ImportError:
        raise MffcnnError("running an ONNX model needs onnxruntime: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.log_severity_level = 3  # no warnings about unused initialisers on stderr
    # Idle worker threads sleep instead of spinning: on a machine shared with other work (the usual case for
    # an application) spinning threads fight that work for the cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for bad files
        raise MffcnnError(f"{path} is not a readable ONNX model ({str(e).splitlines()[0][:200]})") from None
    described = _from_metadata(path, session.get_modelmeta().custom_metadata_map.get("mffcnn"))
    input_name = session.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: x})[0]

    return dict(**described, backend="onnx", run=run)


def _load_torchscript(path: Path, *, threads: int | None) -> dict:
    import warnings

    import torch

    if threads:
        torch.set_num_threads(threads)
    extra = {"mffcnn.json": ""}
    try:
        # TorchScript runs in its own interpreter, not Python's unpickler; still, load only files you trust.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch 2.10+ deprecates TorchScript
            net = torch.jit.load(str(path), map_location="cpu", _extra_files=extra).eval()
    except Exception as e:  # torch raises RuntimeError or others for foreign zips
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise MffcnnError(f"{path} is not a TorchScript file from mffcnn export ({why})") from None
    raw = extra["mffcnn.json"]
    described = _from_metadata(path, raw.decode() if isinstance(raw, bytes) else raw)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()

    return dict(**described, backend="torchscript", run=run)
