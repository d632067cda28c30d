import json

import numpy as np
import pytest
from scipy import stats

from mffcnn.cli import main
from mffcnn.data import load_dataset
from mffcnn.errors import MffcnnError
from mffcnn.model import ABLATIONS, MFFCNNConfig, param_counts
from mffcnn.studies.ablate import ablate, paired_comparison, resume_ablation
from mffcnn.train import folds as cv_module
from mffcnn.train.recipes import Recipe

TINY = dict(folds=2, epochs=1, dataset_options={"subjects": 6, "per_class": 2}, verbose=False)


def test_ablation_models_have_the_papers_parameter_counts():
    counts = param_counts(MFFCNNConfig(num_classes=6))
    assert list(counts) == list(ABLATIONS)
    assert abs(counts["full"] - 1.21e6) / 1.21e6 < 0.01  # Table 6: 1.21M
    assert round(counts["no_mid_level"] / 1e6, 2) == 0.02  # 0.02M
    assert round(counts["no_joint_tuning"] / 1e6, 2) == 1.21  # 1.21M
    assert abs(counts["no_feature_selection"] - 1.22e6) / 1.22e6 < 0.01  # 1.22M
    assert param_counts(MFFCNNConfig(num_classes=7))["full"] > counts["full"]  # the classifiers grow with the classes


def test_paired_comparison_matches_scipy():
    full = [0.90, 0.85, 0.95, 0.80, 0.88]
    other = [0.80, 0.84, 0.90, 0.70, 0.89]
    c = paired_comparison(full, other)
    d = np.subtract(other, full)
    assert c["mean_delta"] == pytest.approx(d.mean()) and c["std_delta"] == pytest.approx(d.std(ddof=1))
    assert c["t_test_p"] == pytest.approx(stats.ttest_rel(other, full).pvalue)
    assert (c["full_better_folds"], c["full_worse_folds"], c["tied_folds"]) == (4, 1, 0)
    assert c["sign_test_p"] == pytest.approx(stats.binomtest(4, 5, 0.5).pvalue)
    assert c["fold_spread"] == pytest.approx(max(np.std(full, ddof=1), np.std(other, ddof=1)))
    assert c["exceeds_fold_spread"] == (abs(d.mean()) > c["fold_spread"])
    assert c["verdict"] == ("helps" if c["t_test_p"] < 0.05 else "no clear effect")


def test_paired_comparison_verdicts():
    same = paired_comparison([0.8, 0.9, 0.7], [0.8, 0.9, 0.7])
    assert same["t_test_p"] == 1.0 and same["verdict"] == "no clear effect" and not same["exceeds_fold_spread"]
    worse = paired_comparison([0.9, 0.91, 0.92, 0.9, 0.93, 0.9], [0.7, 0.72, 0.71, 0.69, 0.7, 0.72])
    assert worse["verdict"] == "helps" and worse["exceeds_fold_spread"] and worse["full_better_folds"] == 6
    better = paired_comparison([0.7, 0.72, 0.71, 0.69, 0.7, 0.72], [0.9, 0.91, 0.92, 0.9, 0.93, 0.9])
    assert better["verdict"] == "hurts"
    with pytest.raises(ValueError):
        paired_comparison([0.9], [0.8])


def test_ablate_end_to_end(tmp_path):
    run_dir, r = ablate("synthetic", project=tmp_path, **TINY)
    assert run_dir == tmp_path / "ablate" / "exp"
    assert r["protocols"] == ["random", "subject"] and r["ablations"] == list(ABLATIONS)
    params = param_counts(MFFCNNConfig(num_classes=6))
    for protocol in ("random", "subject"):
        tests = []
        for a in ABLATIONS:
            row = r["results"][protocol][a]
            assert row["params"] == params[a]
            assert len(row["fold_accuracies"]) == 2 and 0 <= row["mean_accuracy"] <= 1
            assert set(row["per_class_accuracy"]) == set(r["class_names"])
            folder = run_dir / a / protocol
            assert (folder / "results.json").exists() and (folder / "confusion.png").exists()
            tests.append([json.loads(p.read_text())["test_index"] for p in sorted((folder / "folds").glob("*.json"))])
        assert all(t == tests[0] for t in tests)  # the same folds for every model: the pairing is valid
        assert set(r["comparisons"][protocol]) == {"no_mid_level", "no_joint_tuning", "no_feature_selection"}
        for c in r["comparisons"][protocol].values():
            assert c["n_folds"] == 2 and c["verdict"] in ("helps", "hurts", "no clear effect")
    assert json.loads((run_dir / "results.json").read_text())["kind"] == "ablate"
    report = (run_dir / "report.md").read_text()
    for text in (
        "Table 6",
        "96.51",
        "86.00",
        "96.26",
        "95.92",
        "0.02M",
        "paired t-test",
        "synthetic",
        "subject-independent",
        "![ablation](ablation.png)",
    ):
        assert text in report, text
    assert (run_dir / "ablation.png").stat().st_size > 10_000


def test_interrupted_ablation_resumes_without_redoing_folds(tmp_path, monkeypatch):
    opts = dict(TINY, ablations=["full", "no_mid_level"], protocol="random")
    _, reference = ablate("synthetic", project=tmp_path / "ref", **opts)

    real_run_fold = cv_module.run_fold
    calls = []

    def crash_on_third(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 3:  # full's two folds done, then stop in no_mid_level's first
            raise KeyboardInterrupt
        return real_run_fold(*args, **kwargs)

    monkeypatch.setattr(cv_module, "run_fold", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        ablate("synthetic", project=tmp_path / "run", **opts)
    run_dir = tmp_path / "run" / "ablate" / "exp"
    assert len(list((run_dir / "full" / "random" / "folds").glob("*.json"))) == 2
    assert not list((run_dir / "no_mid_level" / "random" / "folds").glob("*.json"))

    calls.clear()
    monkeypatch.setattr(cv_module, "run_fold", lambda *a, **k: calls.append(a[2]) or real_run_fold(*a, **k))
    resumed_dir, resumed = resume_ablation(project=tmp_path / "run", verbose=False)
    assert resumed_dir == run_dir and calls == [1, 2]  # only no_mid_level's folds
    for a in ("full", "no_mid_level"):
        assert (
            resumed["results"]["random"][a]["fold_accuracies"] == reference["results"]["random"][a]["fold_accuracies"]
        )
    assert resumed["comparisons"] == reference["comparisons"]


def test_ablate_command(tmp_path, capsys):
    code = main(
        [
            *"ablate synthetic --subjects 6 --per-class 2 --folds 2 --epochs 1 --protocol subject --ablations full,no_feature_selection --project".split(),
            str(tmp_path),
            "-q",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "MFF-CNN without feature vector selection" in out and "(paper: 95.92 %)" in out
    assert "Feature vector selection:" in out and "report.md" in out
    r = json.loads((tmp_path / "ablate" / "exp" / "results.json").read_text())
    assert r["ablations"] == ["full", "no_feature_selection"] and r["protocols"] == ["subject"]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["ablate", "synthetic", "--ablations", "full,no_mid"], "unknown ablation"),
        (["ablate", "--resume"], "no ablation run to resume"),
        (["ablate"], "needs a dataset"),
    ],
)
def test_ablate_user_errors(tmp_path, capsys, argv, expected):
    assert main(argv + ["--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mffcnn: error:") and expected in err[-1]


def test_resume_refuses_a_cv_run(tmp_path):
    from mffcnn.studies.cv import cross_validate

    run_dir, _ = cross_validate("synthetic", project=tmp_path, protocol="random", **TINY)
    with pytest.raises(MffcnnError, match="not an ablation run"):
        resume_ablation(run_dir)


def test_ablation_numbers_move_with_training(tmp_path):
    """More training, higher fold accuracies: the table reports what training did, fold by fold."""
    recipe = Recipe("t", lr=0.003, batch_size=12)
    opts = dict(
        folds=2,
        dataset_options={"subjects": 2, "per_class": 8},
        ablations=["full"],
        protocol="random",
        recipe=recipe,
        project=tmp_path,
        verbose=False,
    )
    short = ablate("synthetic", epochs=1, name="short", **opts)[1]["results"]["random"]["full"]
    run_dir, long = ablate("synthetic", epochs=15, name="long", **opts)
    long = long["results"]["random"]["full"]
    assert all(b > a for a, b in zip(short["fold_accuracies"], long["fold_accuracies"]))
    assert long["mean_accuracy"] > 1.5 / 6  # chance is 1/6
    for fold, accuracy in zip(sorted((run_dir / "full" / "random" / "folds").glob("*.json")), long["fold_accuracies"]):
        f = json.loads(fold.read_text())  # the table's number is the fold's own predictions, scored
        labels = load_dataset("synthetic", subjects=2, per_class=8).labels[f["test_index"]]
        assert accuracy == pytest.approx(float(np.mean(np.asarray(f["y_pred"]) == labels)))
