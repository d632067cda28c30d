"""`mffcnn export`: a checkpoint as ONNX or TorchScript, checked against PyTorch (library: mffcnn.export)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint to ONNX or TorchScript, checked against PyTorch")
    p.add_argument("checkpoint", nargs="?", help="a model.safetensors from mffcnn train (default: the bundled model)")
    p.add_argument("--format", choices=["onnx", "torchscript"], default="onnx")
    p.add_argument("--out", help="output file (default: beside the checkpoint, .onnx or .torchscript.pt)")
    p.add_argument(
        "--images",
        nargs="+",
        metavar="IMAGE",
        help="check parity on the faces of these photos (default: 60 synthetic faces)",
    )
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest allowed |Δ probability| (default 1e-4)")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.export import export

    report = export(args.checkpoint, format=args.format, out=args.out, images=args.images, tolerance=args.tolerance)
    print(report.line())
    return 0
