import json
import subprocess
import sys

import pytest

from mffcnn.cli import main


def test_cv_end_to_end_on_ckplus48_layout(ckplus48_root, tmp_path, capsys):
    code = main(
        ["cv", "ckplus48", str(ckplus48_root), "--folds", "3", "--epochs", "1", "--project", str(tmp_path), "-q"]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    random, subject = (next(line for line in lines if f" {p}:" in line) for p in ("random", "subject"))
    # The paper's number beside the protocol the paper ran (random folds), not beside the subject-independent one.
    assert "paper: 98.80 %" in random and "paper" not in subject
    r = json.loads((tmp_path / "cv" / "exp" / "random" / "results.json").read_text())
    assert r["dataset"] == "ckplus48" and r["paper"]["accuracy"] == pytest.approx(0.988)
    assert len(r["class_names"]) == 6 and sum(f["n_test"] for f in r["folds"]) == 108
    assert json.loads((tmp_path / "cv" / "exp" / "subject" / "results.json").read_text())["paper"] is None


def test_params_prints_counts(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "1,205,412" in out and "0.02M" in out and "FLOPs" in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["cv", "ckplus48", "/no/such/dir"], "does not exist"),
        (["cv", "synthetic", "/some/path"], "takes no path"),
        (["cv", "ckplus48"], "needs the path"),
        (["cv", "synthetic", "--contempt"], "does not take"),
        (["cv", "--resume"], "no run to resume"),
    ],
)
def test_user_errors_are_one_line(argv, expected, tmp_path, capsys):
    assert main(argv + ["--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mffcnn: error:") and expected in err[-1]
    assert not any("Traceback" in line for line in err)


def test_typos_get_the_closest_option(capsys):
    with pytest.raises(SystemExit) as e:
        main(["cv", "synthetic", "--epoch", "3"])
    assert e.value.code == 2
    assert "did you mean --epochs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cv", "ckplus_48"])
    assert "did you mean 'ckplus48'" in capsys.readouterr().err


def test_wrong_layout_as_a_real_process(tmp_path):
    (tmp_path / "cats").mkdir()
    p = subprocess.run(
        [sys.executable, "-m", "mffcnn", "cv", "ckplus48", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 2
    assert p.stderr.strip() == (
        f"mffcnn: error: ckplus48: {tmp_path} does not look like CK+48: expected class "
        "folders anger/, disgust/, fear/, happy/, sadness/, surprise/ holding "
        "S<subject>_<sequence>_<frame>.png"
    )


def test_predict_registers_only_itself_and_loads_no_training_or_plotting_code():
    """`mffcnn predict` starts fast: the other modes' modules (datasets, matplotlib, scikit-learn, the server)
    are not imported to build its parser; `mffcnn --help` still lists every mode."""
    code = (
        "import sys; from mffcnn.cli import build_parser; p = build_parser('predict'); "
        "print(sorted(m for m in ('matplotlib', 'sklearn', 'fastapi', 'mffcnn.data.datasets') if m in sys.modules)); "
        "print(sorted(build_parser(None)._subparsers._group_actions[0].choices))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "[]"
    assert "predict" in out[1] and "cv" in out[1] and "serve" in out[1]
