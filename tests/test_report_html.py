import base64
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mffcnn.cli import main
from mffcnn.errors import MffcnnError
from mffcnn.studies.ablate import ablate
from mffcnn.studies.cv import cross_validate
from mffcnn.studies.evaluate import evaluate
from mffcnn.studies.gradcam import gradcam
from mffcnn.studies.train import train

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))  # the browser check is a bench tool
from browser import check_in_browser, find_browser  # noqa: E402

from mffcnn.report.collect import find_runs
from mffcnn.report.html import build_report

TINY = dict(folds=2, epochs=1, dataset_options={"subjects": 6, "per_class": 2}, verbose=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, ckplus48_root) -> Path:
    """One run of every kind, tiny, under one project folder; the cv run on a CK+48 tree (the paper has numbers)."""
    project = tmp_path_factory.mktemp("runs")
    cross_validate("ckplus48", ckplus48_root, project=project, folds=2, epochs=1, verbose=False)
    ablate("synthetic", project=project, ablations=["full", "no_mid_level"], protocol="random", **TINY)
    train_dir, _ = train(
        "synthetic", epochs=2, dataset_options={"subjects": 4, "per_class": 2}, project=project, verbose=False
    )
    gradcam(
        train_dir / "model.safetensors",
        dataset="synthetic",
        dataset_options={"subjects": 2},
        indices=[0, 7],
        project=project,
        verbose=False,
    )
    evaluate(
        train_dir / "model.safetensors", "synthetic", dataset_options={"subjects": 2}, project=project, verbose=False
    )
    return project


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, int] = {}
        self.srcs: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if "src" in a:
            self.srcs.append(a["src"])
        if "href" in a:
            self.hrefs.append(a["href"])


def test_runs_of_every_kind_are_found(runs):
    kinds = sorted(r.kind for r in find_runs([runs]))
    assert kinds == ["ablate", "cv", "evaluate", "gradcam", "train"]
    # an ablation's per-model folders are part of it, not cv runs of their own
    assert sum(r.kind == "cv" for r in find_runs([runs / "ablate" / "exp", runs / "cv"])) == 1


def test_report_is_self_contained_with_tables_and_figures(runs, tmp_path):
    html_path, md_path = build_report([runs], out=tmp_path)
    text = html_path.read_text()
    page = Elements()
    page.feed(text)
    # summary, Table 2 beside ours, cv per class + folds, ablation table + comparison + times, gradcam,
    # evaluate, provenance
    assert page.tags["table"] >= 10
    # confusion matrices (2 cv + 1 ablation model + 1 evaluate... the ablation shows its own figure),
    # ablation figure, gradcam figure and a patch figure
    assert page.tags["img"] >= 6
    assert all(src.startswith("data:image/png;base64,") for src in page.srcs)
    for src in page.srcs:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(h.startswith("#") for h in page.hrefs)  # nothing outside the page
    assert not re.search(r"(src|href)=\"(https?:|file:|/)", text) and "<link" not in text and "<script" not in text
    for needle in (
        "Table 2",
        "98.80",
        "DCMA-CNN",
        "Fig. 4",
        "97.33",
        "Table 6",
        "96.51",
        "Grad-CAM",
        "mffcnn.cross_validate(&#x27;ckplus48&#x27;",
        "subject-independent",
        "Commands, machines and versions",
        "torch",
        "max |α| discarded",
    ):
        assert needle in text, needle

    md = md_path.read_text()
    assert md.count("\n| ") >= 20 and "Table 6" in md
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(images) >= 6 and all((md_path.parent / p).is_file() for p in images)


def test_report_command(runs, tmp_path, capsys):
    assert main(["report", str(runs / "cv" / "exp"), str(runs / "ablate" / "exp"), "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'report' / 'exp' / 'report.html'}" in out
    assert "Ablation (Table 6)" in (tmp_path / "report" / "exp" / "report.md").read_text()


def test_report_of_an_unfinished_cv_run(runs, tmp_path):
    import shutil

    run = tmp_path / "cv" / "exp"
    shutil.copytree(runs / "cv" / "exp", run)
    (run / "subject" / "results.json").unlink()
    (run / "subject" / "folds" / "fold_02.json").unlink()
    _, md_path = build_report([run], out=tmp_path / "out")
    assert "**subject**: incomplete, 1 of 2 folds done" in md_path.read_text()


def test_report_errors(tmp_path, capsys):
    with pytest.raises(MffcnnError, match="does not exist"):
        find_runs([tmp_path / "nothing"])
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "is not a run folder and holds none" in capsys.readouterr().err


@pytest.mark.skipif(find_browser() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_report_in_a_real_browser(runs, tmp_path):
    html_path, _ = build_report([runs], out=tmp_path)
    check = check_in_browser(html_path, tmp_path / "screenshot.png", expect_tables=10, expect_images=6)
    assert check.ok, check.problems
    assert check.decoded == check.images >= 6 and check.tables >= 10 and not check.blank
    # and the check can fail: an image that does not decode is caught
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table>"
        '<img src="data:image/png;base64,AAAA"></body></html>'
    )
    bad = check_in_browser(broken, tmp_path / "broken.png")
    assert not bad.ok and bad.decoded == 0 and any("decoded" in p for p in bad.problems)
