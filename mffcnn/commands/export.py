"""`mffcnn export`: a checkpoint as ONNX or TorchScript, checked against PyTorch (library: mffcnn.export)."""

from __future__ import annotations

from mffcnn.commands import values


def register(sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint to ONNX or TorchScript, checked against PyTorch")
    p.add_argument("checkpoint", nargs="?", help="a model.safetensors from mffcnn train (default: the bundled model)")
    p.add_argument("--format", choices=["onnx", "torchscript"], default="onnx")
    p.add_argument("--out", help="output file (default: beside the checkpoint, .onnx or .torchscript.pt)")
    p.add_argument(
        "--images",
        nargs="+",
        metavar="IMAGE",
        help="check parity on the faces of these photos or folders (default: 60 synthetic faces); with --int8, "
        "calibrate on them",
    )
    p.add_argument("--no-detect", action="store_true", help="the --images are face crops already: detect nothing")
    p.add_argument(
        "--int8", action="store_true", help="ONNX Runtime static int8 quantization, calibrated on the faces of --images"
    )
    p.add_argument(
        "--int8-layers",
        choices=["linear", "all"],
        help="what --int8 quantizes: the fully connected layers (linear, the default) or every layer (all: for "
        "CPUs with VNNI)",
    )
    p.add_argument(
        "--tolerance", type=values.POSITIVE, default=1e-4, help="largest allowed |Δ probability| (default 1e-4)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.errors import MffcnnError
    from mffcnn.export import export

    if args.int8_layers and not args.int8:
        raise MffcnnError("--int8-layers says what --int8 quantizes: give --int8 too")
    report = export(
        args.checkpoint,
        format=args.format,
        out=args.out,
        images=args.images,
        detect=not args.no_detect,
        tolerance=args.tolerance,
        int8=(args.int8_layers or "linear") if args.int8 else None,
    )
    print(report.line())
    return 0
