"""`mffcnn report`: one self-contained HTML page (and Markdown) from run folders, beside the paper.

Collects the given run folders (or every run below a folder such as runs/) into one self-contained report.html (images embedded) and report.md, beside the paper's tables.
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="one HTML page + Markdown from run folders (cv, ablate, gradcam, evaluate, train)",
        description=__doc__,
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders, or folders that hold them (e.g. runs/)")
    p.add_argument("--out", help="folder to write report.html and report.md to (default: PROJECT/report/expN)")
    p.add_argument("--title", help="the page's title")
    p.add_argument("--project", default="runs", help="where the report folder goes when --out is not given")
    p.add_argument("--name", default="exp")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.report.html import build_report

    html_path, md_path = build_report(args.runs, out=args.out, project=args.project, name=args.name, title=args.title)
    print(f"report: {html_path}")
    print(f"markdown: {md_path}")
    return 0
