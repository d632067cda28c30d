"""Export a checkpoint to ONNX or TorchScript, each checked against PyTorch (after timm's onnx_export + onnx_validate).

The exported graph is the whole classifier of a face crop: per-image normalisation
(mffcnn/data/preprocess.py) → MFF-CNN (paper §3) → class probabilities (the fused ỹ/2 of §3.3,
see mffcnn/model/mffcnn.py). Its input is `faces`: float32 (batch, 1, S, S) grey pixel values
0–255 of face crops (S = 60), with a dynamic batch size; its output `probabilities` (batch, C).
Putting the normalisation inside the graph means a consumer in any language only has to find,
crop and resize the face.

Class names and preprocessing (face detector settings, crop margin, size, normalisation) travel
inside the file — ONNX `metadata_props`, or a TorchScript extra file `mffcnn.json` — so that
`mffcnn predict --model model.onnx` needs nothing else.

Every export is run on real faces (the synthetic set, or faces cropped from the images given)
at several batch sizes and compared with the PyTorch model the checkpoint rebuilds: the largest
absolute difference of the output probabilities must be ≤ 1e-4, or the file is removed.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mffcnn.checkpoint import Checkpoint, load_checkpoint
from mffcnn.errors import MffcnnError
from mffcnn.predict.backends import DEFAULT_MODEL, InferenceModel, load_backend, resolve_model_path
from mffcnn.predict.faces import collect_faces

FORMATS = ("onnx", "torchscript")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
TOLERANCE = 1e-4
OPSET = 17
INPUT_DOC = (
    "faces: float32 (batch, 1, S, S), grey pixel values 0-255 of face crops (S = preprocessing.size); "
    "normalisation is inside the graph. Output probabilities: (batch, classes), in class_names order."
)


def metadata(ckpt: Checkpoint) -> dict:
    """What an exported file carries: the checkpoint's description, and how to feed the graph."""
    return {**ckpt.describe(), "input": INPUT_DOC}


@dataclass
class ExportReport:
    path: str
    format: str
    faces: int  # real faces the check ran on
    batch_sizes: list[int]  # batch sizes the exported graph was run at (dynamic batch)
    max_abs_diff: float  # largest |p_export − p_pytorch| over all faces and classes
    label_agreement: float  # fraction of faces with the same predicted class
    tolerance: float
    size_bytes: int
    seconds: float

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def line(self) -> str:
        return (
            f"{self.format}: {self.path} ({self.size_bytes / 1e6:.2f} MB); parity on {self.faces} "
            f"face{'' if self.faces == 1 else 's'} at batch "
            f"sizes {', '.join(map(str, self.batch_sizes))}: max |Δp| = {self.max_abs_diff:.2e} "
            f"(≤ {self.tolerance:.0e}: {'ok' if self.passed else 'FAILED'}), same label on "
            f"{100 * self.label_agreement:.1f} % of faces"
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def parity_faces(ckpt, images: Sequence[str | Path] | None = None, *, n: int = 60) -> np.ndarray:
    """Real inputs for the parity check, (n, S, S) uint8: faces cropped from `images` by the predict
    pipeline, or else n faces of the synthetic set (drawn in code, the same every time)."""
    size = ckpt.preprocessing.size
    if images:
        faces = collect_faces(images, preprocessing=ckpt.preprocessing)
        if len(faces) == 0:
            raise MffcnnError("no face found in the images given for the parity check")
        return faces
    from mffcnn.data.datasets.synthetic import generate

    per_subject = 6
    subjects = math.ceil(n / per_subject)
    faces = [f for f, *_ in generate(subjects=subjects, per_class=1, seed=12345, size=size)]
    return np.stack(faces[:n])


def export(
    checkpoint: str | Path,
    *,
    format: str = "onnx",
    out: str | Path | None = None,
    images: Sequence[str | Path] | None = None,
    tolerance: float = TOLERANCE,
    opset: int = OPSET,
) -> ExportReport:
    """Export a checkpoint (`mffcnn train` output, or None for the bundled model) and check it."""
    if format not in FORMATS:
        raise MffcnnError(f"unknown export format {format!r}; choose from {', '.join(FORMATS)}")
    checkpoint = resolve_model_path(checkpoint)
    ckpt = load_checkpoint(checkpoint)
    if out is None:  # beside the checkpoint; the bundled model's into the current folder, not into the package
        if checkpoint.resolve() == DEFAULT_MODEL.resolve():
            out = Path.cwd() / ("mffcnn-default" + SUFFIXES[format])
        else:
            out = checkpoint.parent / (checkpoint.name.removesuffix(".safetensors") + SUFFIXES[format])
    out = Path(out)
    if out.resolve() == checkpoint.resolve():
        raise MffcnnError(f"the export would overwrite the checkpoint {checkpoint}; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = InferenceModel(ckpt.model, ckpt.preprocessing.normalisation).eval()
    size = ckpt.preprocessing.size
    example = torch.full((2, 1, size, size), 128.0)
    start = time.perf_counter()
    if format == "onnx":
        _export_onnx(wrapper, example, out, metadata(ckpt), opset=opset)
    else:
        _export_torchscript(wrapper, example, out, metadata(ckpt))
    seconds = time.perf_counter() - start

    faces = parity_faces(ckpt, images)
    report = check_parity(out, ckpt, faces, tolerance=tolerance)
    report.seconds = round(seconds, 2)
    if not report.passed:
        out.unlink(missing_ok=True)  # a graph that disagrees with the model must not be used by mistake
        raise MffcnnError(
            f"{format} export disagrees with PyTorch: max |Δp| = {report.max_abs_diff:.2e} > "
            f"{tolerance:.0e} on {report.faces} faces; the file was removed"
        )
    return report


def _export_onnx(wrapper: nn.Module, example: torch.Tensor, out: Path, meta: dict, *, opset: int) -> None:
    try:
        import onnx
    except ImportError:
        raise MffcnnError("ONNX export needs the onnx package: pip install onnx") from None
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript-based exporter (dynamo=False) needs no extra package (onnxscript) and
        # exports topk/sort/gather of the feature selection (§3.2) with a dynamic batch.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (example,),
            str(out),
            dynamo=False,
            opset_version=opset,
            input_names=["faces"],
            output_names=["probabilities"],
            dynamic_axes={"faces": {0: "batch"}, "probabilities": {0: "batch"}},
        )
    model = onnx.load(str(out))
    props = {
        "mffcnn": json.dumps(meta),
        "class_names": json.dumps(meta["class_names"]),
        "preprocessing": json.dumps(meta["preprocessing"]),
    }
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "mffcnn"
    model.doc_string = "MFF-CNN facial expression classifier (Zou, Zhang & Lee 2021). " + meta["input"]
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def _export_torchscript(wrapper: nn.Module, example: torch.Tensor, out: Path, meta: dict) -> None:
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TracerWarnings about shape arithmetic: the parity check covers them
        traced = torch.jit.trace(wrapper, example, check_trace=False)
        torch.jit.save(traced, str(out), _extra_files={"mffcnn.json": json.dumps(meta)})


def check_parity(path: str | Path, ckpt, faces: np.ndarray, *, tolerance: float = TOLERANCE) -> ExportReport:
    """Run an exported file (through predict's own loader) and the checkpoint's PyTorch model on the
    same faces, at batch sizes 1, an odd size and all at once, and compare the probabilities."""
    path = Path(path)
    exported = load_backend(path)
    if exported.class_names != list(ckpt.class_names):
        raise MffcnnError(f"{path} carries class names {exported.class_names}, the checkpoint {ckpt.class_names}")
    with torch.inference_mode():
        reference = ckpt.model(ckpt.preprocessing.to_tensor(faces)).numpy()  # the model as trained and evaluated
    n = len(faces)
    batch_sizes = sorted({1, min(7, n), n})
    worst, agree = 0.0, None
    for b in batch_sizes:
        got = np.concatenate([exported.probabilities(faces[i : i + b]) for i in range(0, n, b)])
        worst = max(worst, float(np.abs(got - reference).max()))
        if b == n:
            agree = float((got.argmax(1) == reference.argmax(1)).mean())
    return ExportReport(
        path=str(path),
        format=exported.backend,
        faces=n,
        batch_sizes=batch_sizes,
        max_abs_diff=worst,
        label_agreement=agree,
        tolerance=tolerance,
        size_bytes=path.stat().st_size,
        seconds=0.0,
    )
