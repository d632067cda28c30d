import json

import numpy as np
import pytest

from mffcnn.data.datasets import synthetic
from mffcnn.errors import MffcnnError
from mffcnn.studies.cv import cross_validate, resume
from mffcnn.train import folds as cv_module
from mffcnn.train.folds import make_folds

TINY = dict(folds=3, epochs=2, dataset_options={"subjects": 6, "per_class": 2}, verbose=False)


def test_folds_random_and_subject_independent():
    fs = synthetic.load(subjects=10, per_class=2)
    for protocol in ("random", "subject"):
        folds = make_folds(fs, protocol, 5, seed=0)
        test = np.concatenate([te for _, te in folds])
        assert sorted(test.tolist()) == list(range(len(fs)))  # each image tested exactly once
    for tr, te in make_folds(fs, "subject", 5, seed=0):
        assert not set(fs.subjects[tr]) & set(fs.subjects[te])
    with pytest.raises(MffcnnError, match="fewer than 20 folds"):
        make_folds(fs, "subject", 20, seed=0)


def test_cv_writes_results_report_and_figure(tmp_path):
    run_dir, results = cross_validate("synthetic", project=tmp_path, **TINY)
    assert run_dir == tmp_path / "cv" / "exp"
    assert [r["protocol"] for r in results] == ["random", "subject"]
    for protocol in ("random", "subject"):
        r = json.loads((run_dir / protocol / "results.json").read_text())
        for key in (
            "dataset",
            "protocol",
            "class_names",
            "folds",
            "mean_accuracy",
            "std_accuracy",
            "per_class_accuracy",
            "confusion_matrix",
            "params",
            "seconds",
        ):
            assert key in r
        assert r["synthetic"] is True and r["dataset"] == "synthetic"
        assert len(r["folds"]) == 3 and all(0 <= f["accuracy"] <= 1 for f in r["folds"])
        assert sum(f["n_test"] for f in r["folds"]) == 72 == np.sum(r["confusion_matrix"])
        assert abs(r["mean_accuracy"] - np.mean([f["accuracy"] for f in r["folds"]])) < 1e-12
        assert (run_dir / protocol / "confusion.png").stat().st_size > 1000
    report = (run_dir / "report.md").read_text()
    assert "synthetic" in report and "random" in report and "subject" in report
    run2, _ = cross_validate("synthetic", project=tmp_path, protocol="random", **TINY)
    assert run2.name == "exp2"  # numbered run folders


def test_same_seed_same_results(tmp_path):
    _, a = cross_validate("synthetic", project=tmp_path, protocol="random", seed=3, **TINY)
    _, b = cross_validate("synthetic", project=tmp_path, protocol="random", seed=3, **TINY)
    assert [f["accuracy"] for f in a[0]["folds"]] == [f["accuracy"] for f in b[0]["folds"]]
    assert a[0]["confusion_matrix"] == b[0]["confusion_matrix"]


def test_interrupted_run_resumes_without_redoing_folds(tmp_path, monkeypatch):
    _, reference = cross_validate("synthetic", project=tmp_path / "ref", protocol="random", **TINY)

    real_run_fold = cv_module.run_fold
    calls = []

    def crash_on_second(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run_fold(*args, **kwargs)

    monkeypatch.setattr(cv_module, "run_fold", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        cross_validate("synthetic", project=tmp_path / "run", protocol="random", **TINY)
    run_dir = tmp_path / "run" / "cv" / "exp"
    assert [p.name for p in sorted((run_dir / "random" / "folds").glob("*.json"))] == ["fold_01.json"]

    calls.clear()
    monkeypatch.setattr(cv_module, "run_fold", lambda *a, **k: calls.append(a[2]) or real_run_fold(*a, **k))
    resumed_dir, resumed = resume(project=tmp_path / "run", verbose=False)
    assert resumed_dir == run_dir and calls == [2, 3]  # fold 1 was not redone
    assert [f["accuracy"] for f in resumed[0]["folds"]] == [f["accuracy"] for f in reference[0]["folds"]]


def test_resume_without_a_run(tmp_path):
    with pytest.raises(MffcnnError, match="no run to resume"):
        resume(project=tmp_path)
