"""Checkpoints that carry everything `predict`, `gradcam` and `export` need, and load safely.

One `.safetensors` file: the weights as plain tensors, and in its header one JSON document with
the model config, class names, preprocessing (face crop, size, normalisation) and provenance
(data, options, scores). safetensors never unpickles, so a checkpoint cannot run code; a file
that is not an mffcnn checkpoint, or was altered, gives a clear error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors import SafetensorError, safe_open

from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

if TYPE_CHECKING:  # the model (torch) is imported where weights are read or written: parse_description, which
    # predict needs for an ONNX file's metadata, loads no torch
    from mffcnn.model import MFFCNN, MFFCNNConfig

FORMAT = "mffcnn-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    model: MFFCNN
    class_names: list[str]
    preprocessing: Preprocessing
    info: dict = field(default_factory=dict)  # provenance: dataset, options, scores, versions

    @property
    def config(self) -> MFFCNNConfig:
        return self.model.cfg

    def require_classes(self, class_names: list[str]) -> None:
        """An error unless the model knows every one of these classes."""
        unknown = [c for c in class_names if c not in self.class_names]
        if unknown:
            raise MffcnnError(
                f"the model does not know the class(es) {', '.join(unknown)}; it has {', '.join(self.class_names)}"
            )

    def describe(self) -> dict:
        """The JSON document a checkpoint (and an export of it) carries beside the weights."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "class_names": list(self.class_names),
            "preprocessing": self.preprocessing.to_dict(),
            "info": self.info,
        }


def parse_description(raw: str | None) -> dict | None:
    """The JSON description an mffcnn checkpoint or export carries (Checkpoint.describe), or None."""
    try:
        meta = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(ckpt.class_names) != ckpt.config.num_classes:
        raise ValueError("class_names must match the model's num_classes")
    from safetensors.torch import save_file

    meta = ckpt.describe()
    tensors = {k: v.detach().contiguous().cpu() for k, v in ckpt.model.state_dict().items()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(tensors, str(tmp), metadata={"mffcnn": json.dumps(meta)})
    tmp.replace(path)  # atomic: an interrupted save never leaves half a checkpoint
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    from mffcnn.model import MFFCNN, MFFCNNConfig

    path = Path(path)
    if not path.is_file():
        raise MffcnnError(f"checkpoint {str(path)!r} does not exist")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = (f.metadata() or {}).get("mffcnn")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise MffcnnError(f"{path} is not a readable safetensors checkpoint ({e})") from None
    meta = parse_description(header)
    if meta is None:
        raise MffcnnError(f"{path} is not an mffcnn checkpoint (no mffcnn metadata)")
    if meta.get("version", 0) > VERSION:
        raise MffcnnError(f"{path} was written by a newer mffcnn (format {meta['version']}); upgrade mffcnn")
    try:
        model = MFFCNN(MFFCNNConfig.from_dict(meta["config"]))
        model.load_state_dict(tensors, strict=True)
        preprocessing = Preprocessing.from_dict(meta["preprocessing"])
        class_names = list(meta["class_names"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise MffcnnError(
            f"{path}: the checkpoint does not match its own description ({str(e).splitlines()[0]})"
        ) from None
    if len(class_names) != model.cfg.num_classes:
        raise MffcnnError(f"{path}: {len(class_names)} class names for a {model.cfg.num_classes}-class model")
    model.eval()
    return Checkpoint(model=model, class_names=class_names, preprocessing=preprocessing, info=meta.get("info", {}))
