"""`mffcnn params`: parameter counts of the Table 6 configurations, and FLOPs, beside the paper's."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("params", help="parameter counts of the Table 6 configurations, and FLOPs")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn import paper
    from mffcnn.model import param_counts
    from mffcnn.model.flops import flops_per_image

    print(f"{'configuration':<22} {'ours':>11} {'paper':>7}")
    for name, n in param_counts().items():
        print(f"{name:<22} {n:>11,} {paper.PARAMS[name] / 1e6:>6.2f}M")
    print(f"FLOPs per 60×60 face: {flops_per_image() / 1e6:.1f}M (paper states {paper.FLOPS / 1e9:.2f}G)")
    return 0
