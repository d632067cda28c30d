"""Every numeric option is checked while the command line is parsed: one line naming the option and what it
allows (commands/values.py); the checks that need a file or the dataset run before any work starts."""

import argparse

import pytest

from mffcnn.cli import build_parser, main
from mffcnn.commands import values
from mffcnn.errors import MffcnnError
from mffcnn.studies.cv import cross_validate

CHECKED = {getattr(values, n) for n in dir(values) if n.isupper()} | {values.existing_file}
UNCHECKED = {("serve", "--port")}  # an int, its range checked in serve's run() (one line, before it binds)


def refused(argv, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(
    "argv, option, allowed",
    [
        (["train", "synthetic", "--epochs", "-1"], "--epochs", "at least 1"),
        (["train", "synthetic", "--epochs", "-5"], "--epochs", "at least 1"),
        (["cv", "synthetic", "--epochs", "0"], "--epochs", "at least 1"),
        (["cv", "synthetic", "--folds", "1"], "--folds", "at least 2"),
        (["train", "synthetic", "--lr", "-1"], "--lr", "finite number above 0"),
        (["train", "synthetic", "--lr", "nan"], "--lr", "finite number above 0"),
        (["predict", "x.jpg", "--threads", "-2"], "--threads", "at least 1"),
        (["predict", "x.jpg", "--max-megapixels", "nan"], "--max-megapixels", "finite number above 0"),
        (["predict", "x.jpg", "--max-megapixels", "inf"], "--max-megapixels", "finite number above 0"),
        (["predict", "x.jpg", "--min-face", "3"], "--min-face", "at most 1"),
        (["predict", "x.jpg", "--batch-size", "0"], "--batch-size", "at least 1"),
        (["serve", "--max-body-mb", "nan"], "--max-body-mb", "finite number above 0"),
        (["serve", "--body-timeout", "nan"], "--body-timeout", "finite number above 0"),
        (["serve", "--max-files", "0"], "--max-files", "at least 1"),
        (["export", "--tolerance", "inf"], "--tolerance", "finite number above 0"),
        (["sfew", "x", "--pretrain-epochs", "0"], "--pretrain-epochs", "at least 1"),
        (["gradcam", "m.safetensors", "--index", "-1"], "--index", "at least 0"),
        (["cv", "synthetic", "--margin", "5"], "--margin", "at most 2"),
        (["train", "synthetic", "--seed", "-3"], "--seed", "from 0 to"),
        (["train", "synthetic", "--init", "/no/such.safetensors"], "--init", "does not exist"),
    ],
)
def test_bad_values_are_one_line_at_parse_time(argv, option, allowed, capsys):
    line = refused(argv, capsys)
    assert f"argument {option}" in line and allowed in line, line


def test_every_numeric_option_of_every_mode_is_checked():
    parser = build_parser(None)
    modes = parser._subparsers._group_actions[0].choices
    loose = [
        (mode, a.option_strings[0])
        for mode, sub in modes.items()
        for a in sub._actions
        if a.option_strings and a.type in (int, float) and (mode, a.option_strings[0]) not in UNCHECKED
    ]
    assert loose == []
    for sub in modes.values():
        for a in sub._actions:
            if a.type is not None and a.type not in (int, float, str):
                assert a.type in CHECKED or getattr(a.type, "__qualname__", "").startswith(("whole", "number")), a


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400", "x", ""])
def test_number_refuses_what_is_not_finite(text):
    with pytest.raises(argparse.ArgumentTypeError):
        values.POSITIVE(text)


def test_too_many_folds_is_refused_before_anything_trains(tmp_path, capsys):
    argv = "cv synthetic --subjects 2 --per-class 2 --folds 9 --protocol random -q --device cpu --epochs 1".split()
    assert main(argv + ["--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mffcnn: error: --folds 9:") and "has 4 images" in err[-1] and "Traceback" not in err
    assert not (tmp_path / "cv").exists()  # no run folder: nothing started
    # both protocols: the subject folds' limit is checked before the random folds train
    argv = "cv synthetic --subjects 3 --per-class 4 --folds 4 -q --device cpu --epochs 1".split()
    assert main(argv + ["--project", str(tmp_path)]) == 2
    assert "3 subjects, fewer than the folds" in capsys.readouterr().err
    assert not (tmp_path / "cv").exists()


def test_epochs_zero_is_not_the_default_in_the_library(tmp_path):
    with pytest.raises(MffcnnError, match="--epochs must be at least 1, not 0"):
        cross_validate("synthetic", epochs=0, project=tmp_path, verbose=False)


def test_init_and_pretrain_are_checked_before_any_work(tmp_path, capsys):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint")
    assert main(["train", "synthetic", "--init", str(junk), "--project", str(tmp_path), "-q"]) == 2
    assert "not a readable safetensors" in capsys.readouterr().err
    assert not (tmp_path / "train").exists()
    sfew_root = tmp_path / "sfew"
    sfew_root.mkdir()
    argv = ["sfew", str(sfew_root), "--pretrain", "jaffe:/no/such/jaffe", "--project", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "mffcnn: error: --pretrain 'jaffe:/no/such/jaffe': '/no/such/jaffe' does not exist", err
    assert main(["sfew", str(sfew_root), "--pretrain", "jafe:/x", "--project", str(tmp_path)]) == 2
    assert "unknown dataset 'jafe' (did you mean 'jaffe'?)" in capsys.readouterr().err
