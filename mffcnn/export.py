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

int8 (`--int8`): ONNX Runtime's static quantization of the exported graph, its activation ranges calibrated
on faces the user gives (the faces the model will see: a few hundred are plenty). Weights int8 per channel,
activations int8, in the QDQ format ONNX Runtime fuses into integer kernels. By default only the fully
connected layers are quantized ("linear": most of the weights, so the file is much smaller): on a CPU without
VNNI (AVX2 only) ONNX Runtime's int8 convolutions are no faster than its float ones and the conversions
around them make the whole network slower; "all" quantizes the convolutions too, for CPUs with VNNI (bench/
int8.py measures both). An int8 file cannot meet the float tolerance; it must give the PyTorch model's label
on at least 95 % of the calibration faces instead, or it is removed.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mffcnn.checkpoint import Checkpoint, load_checkpoint
from mffcnn.errors import MffcnnError
from mffcnn.predict.backends import DEFAULT_MODEL, load_backend, resolve_model_path
from mffcnn.predict.faces import collect_faces
from mffcnn.predict.inference import InferenceModel

FORMATS = ("onnx", "torchscript")
# What int8 quantizes: the ONNX op types of each scope (None: every op type the quantizer supports).
INT8_SCOPES = {"linear": ["MatMul", "Gemm"], "all": None}
INT8_MIN_AGREEMENT = 0.95  # an int8 file must give the float model's label on this share of the calibration faces
CALIBRATION_BATCH = 32
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
    min_agreement: float | None = None  # int8: the label agreement that must be met instead of the tolerance

    @property
    def passed(self) -> bool:
        if self.min_agreement is not None:
            return self.label_agreement >= self.min_agreement
        return self.max_abs_diff <= self.tolerance

    def line(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        judged = (
            f"max |Δp| = {self.max_abs_diff:.2e}, same label on {100 * self.label_agreement:.1f} % of faces "
            f"(≥ {100 * self.min_agreement:.0f} %: {verdict})"
            if self.min_agreement is not None
            else f"max |Δp| = {self.max_abs_diff:.2e} (≤ {self.tolerance:.0e}: {verdict}), same label on "
            f"{100 * self.label_agreement:.1f} % of faces"
        )
        return (
            f"{self.format}: {self.path} ({self.size_bytes / 1e6:.2f} MB); parity on {self.faces} "
            f"face{'' if self.faces == 1 else 's'} at batch sizes {', '.join(map(str, self.batch_sizes))}: {judged}"
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def parity_faces(ckpt, images: Sequence[str | Path] | None = None, *, n: int = 60, detect: bool = True) -> np.ndarray:
    """Real inputs for the parity check, (n, S, S) uint8: faces cropped from `images` (files and folders) by
    the predict pipeline (detect=False: the images are face crops), or else n faces of the synthetic set
    (drawn in code, the same every time)."""
    size = ckpt.preprocessing.size
    if images:
        faces = collect_faces(images, preprocessing=ckpt.preprocessing, detect=detect)
        if len(faces) == 0:
            raise MffcnnError("no face found in the images given (if they are face crops already, use --no-detect)")
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
    detect: bool = True,
    tolerance: float = TOLERANCE,
    opset: int = OPSET,
    int8: str | None = None,
) -> ExportReport:
    """Export a checkpoint (`mffcnn train` output, or None for the bundled model) and check it.

    images: photos (files or folders) whose faces the check runs on (detect=False: they are face crops);
    int8: "linear" or "all" quantizes the ONNX graph (see the module's docstring), calibrated on those faces."""
    if format not in FORMATS:
        raise MffcnnError(f"unknown export format {format!r}; choose from {', '.join(FORMATS)}")
    if int8 is not None:
        if format != "onnx":
            raise MffcnnError("int8 is an ONNX Runtime quantization: use --format onnx")
        if int8 not in INT8_SCOPES:
            raise MffcnnError(f"unknown int8 scope {int8!r}; choose from {', '.join(INT8_SCOPES)}")
        if not images:
            raise MffcnnError(
                "int8 needs faces to calibrate on: --images PHOTOS_OR_FOLDERS (a few hundred faces like the ones "
                "the model will see; --no-detect if they are face crops)"
            )
    checkpoint = resolve_model_path(checkpoint)
    ckpt = load_checkpoint(checkpoint)
    suffix = (".int8" if int8 else "") + SUFFIXES[format]
    if out is None:  # beside the checkpoint; the bundled model's into the current folder, not into the package
        if checkpoint.resolve() == DEFAULT_MODEL.resolve():
            out = Path.cwd() / ("mffcnn-default" + suffix)
        else:
            out = checkpoint.parent / (checkpoint.name.removesuffix(".safetensors") + suffix)
    out = Path(out)
    if out.resolve() == checkpoint.resolve():
        raise MffcnnError(f"the export would overwrite the checkpoint {checkpoint}; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = InferenceModel(ckpt.model, ckpt.preprocessing.normalisation).eval()
    size = ckpt.preprocessing.size
    example = torch.full((2, 1, size, size), 128.0)
    faces = parity_faces(ckpt, images, detect=detect)  # before the export: bad --images fail fast
    start = time.perf_counter()
    if int8:
        with tempfile.TemporaryDirectory() as tmp:
            exact = Path(tmp) / "float.onnx"
            _export_onnx(wrapper, example, exact, metadata(ckpt), opset=opset)
            _quantize(exact, out, faces, scope=int8)
    elif format == "onnx":
        _export_onnx(wrapper, example, out, metadata(ckpt), opset=opset)
    else:
        _export_torchscript(wrapper, example, out, metadata(ckpt))
    seconds = time.perf_counter() - start

    report = check_parity(out, ckpt, faces, tolerance=tolerance)
    report.seconds = round(seconds, 2)
    if int8:
        report.format, report.min_agreement = f"onnx int8 ({int8})", INT8_MIN_AGREEMENT
    if not report.passed:
        out.unlink(missing_ok=True)  # a graph that disagrees with the model must not be used by mistake
        raise MffcnnError(
            f"{report.format} export disagrees with PyTorch: "
            + (
                f"same label on {100 * report.label_agreement:.1f} % of {report.faces} faces "
                f"(< {100 * INT8_MIN_AGREEMENT:.0f} %; calibrate on more faces, or try --int8-layers linear)"
                if int8
                else f"max |Δp| = {report.max_abs_diff:.2e} > {tolerance:.0e} on {report.faces} faces"
            )
            + "; the file was removed"
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


def _quantize(exact: Path, out: Path, faces: np.ndarray, *, scope: str) -> None:
    """ONNX Runtime static quantization of an exported float graph, calibrated on `faces` (n, S, S) uint8;
    the mffcnn metadata travels along, with how the file was quantized."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Faces(CalibrationDataReader):
        def __init__(self):
            batches = (faces[i : i + CALIBRATION_BATCH] for i in range(0, len(faces), CALIBRATION_BATCH))
            self.batches = ({"faces": b.astype(np.float32)[:, None]} for b in batches)  # (b, 1, S, S) 0–255

        def get_next(self):
            return next(self.batches, None)

    prepared = exact.with_name("prepared.onnx")
    quant_pre_process(str(exact), str(prepared))  # shape inference and graph clean-up, as ONNX Runtime advises
    quantize_static(
        str(prepared),
        str(out),
        Faces(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=INT8_SCOPES[scope],
    )
    model = onnx.load(str(out))
    props = {p.key: p for p in model.metadata_props}
    meta = json.loads(props["mffcnn"].value)
    meta["info"] = {
        **(meta.get("info") or {}),
        "quantization": {
            "type": "int8, static (ONNX Runtime, QDQ, weights per channel)",
            "scope": scope,
            "op_types": INT8_SCOPES[scope] or "all",
            "calibration_faces": len(faces),
        },
    }
    props["mffcnn"].value = json.dumps(meta)
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
