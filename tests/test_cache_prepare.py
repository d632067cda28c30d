"""The prepared-dataset cache and `mffcnn prepare`."""

import os

import numpy as np
import pytest
from conftest import make_jaffe, make_sfew

from mffcnn.cli import main
from mffcnn.data import load_dataset


@pytest.fixture
def sfew_root(tmp_path):
    return make_sfew(tmp_path / "sfew")


def test_second_load_comes_from_the_cache_and_is_identical(sfew_root, tmp_path, capsys):
    a = load_dataset("sfew", sfew_root, split="val", cache=tmp_path / "c")
    first_err = capsys.readouterr().err
    b = load_dataset("sfew", sfew_root, split="val", cache=tmp_path / "c")
    assert not a.from_cache and b.from_cache and a.cache == b.cache
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert list(a.subjects) == list(b.subjects) and a.paths == b.paths and a.class_names == b.class_names
    assert a.summary.table() == b.summary.table() and a.preprocessing == b.preprocessing
    assert first_err.count("blank image") == 2
    assert capsys.readouterr().err == first_err  # the cache hit replays the same per-file warnings


def test_cache_key_follows_options_preprocessing_and_files(sfew_root, tmp_path):
    c = tmp_path / "c"
    base = load_dataset("sfew", sfew_root, cache=c)
    assert load_dataset("sfew", sfew_root, split="val", cache=c).cache != base.cache
    assert load_dataset("sfew", sfew_root, detect_face=True, no_face="whole", cache=c).cache != base.cache
    assert load_dataset("sfew", sfew_root, cache=c).from_cache
    victim = next((sfew_root / "Train" / "Angry").iterdir())
    victim.unlink()  # a file removed: prepared again, and the stale entry replaced
    again = load_dataset("sfew", sfew_root, cache=c)
    assert not again.from_cache and len(again) == len(base) - 1
    assert len(list(c.glob("sfew-*.npz"))) == 3  # train (new), val, train with detection


def test_cache_can_be_bypassed(sfew_root, tmp_path, monkeypatch):
    monkeypatch.setenv("MFFCNN_CACHE_DIR", str(tmp_path / "default"))
    fs = load_dataset("sfew", sfew_root, cache=False)
    assert fs.cache is None and not (tmp_path / "default").exists()
    monkeypatch.setenv("MFFCNN_NO_CACHE", "1")
    assert load_dataset("sfew", sfew_root).cache is None
    monkeypatch.delenv("MFFCNN_NO_CACHE")
    assert load_dataset("sfew", sfew_root).cache.startswith(str(tmp_path / "default"))


def test_a_damaged_cache_entry_is_rebuilt(sfew_root, tmp_path, capsys):
    fs = load_dataset("sfew", sfew_root, cache=tmp_path)
    with open(fs.cache, "wb") as f:
        f.write(b"not a zip")
    again = load_dataset("sfew", sfew_root, cache=tmp_path)
    assert not again.from_cache and "unusable cache entry" in capsys.readouterr().err
    assert load_dataset("sfew", sfew_root, cache=tmp_path).from_cache


def test_prepare_prints_the_summary_and_is_instant_the_second_time(tmp_path, capsys):
    root = make_jaffe(tmp_path / "jaffe", subjects=2, per_class=1)
    args = ["prepare", "jaffe", str(root), "--no-face", "whole", "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "class     found   kept  images  dropped" in out and "total" in out and "prepared in" in out
    assert "Viola-Jones face crop" in out and "jaffe: 96 images of 2 subjects" in out
    assert main(args + ["--sheet", str(tmp_path / "sheet.png")]) == 0
    out = capsys.readouterr().out
    assert "from the cache" in out and os.path.getsize(tmp_path / "sheet.png") > 1000
    assert main(args + ["--force", "-q"]) == 0
    assert "prepared in" in capsys.readouterr().out


def test_prepare_user_errors(tmp_path, capsys):
    assert main(["prepare", "sfew", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["prepare", "sfew", str(tmp_path), "--no-cache", "--cache-dir", "x"]) == 2
    assert "contradict" in capsys.readouterr().err
    assert main(["prepare", "sfew", str(tmp_path), "--camera", "nir"]) == 2
    assert "sfew does not take the option(s) camera" in capsys.readouterr().err


def test_cv_uses_the_cache(tmp_path, capsys):
    root = make_jaffe(tmp_path / "jaffe", subjects=3, per_class=1)
    cache = str(tmp_path / "c")
    assert main(["prepare", "jaffe", str(root), "--no-augment", "--no-face", "whole", "--cache-dir", cache, "-q"]) == 0
    entries = sorted(os.listdir(cache))
    assert (
        main(
            [
                "cv",
                "jaffe",
                str(root),
                "--no-augment",
                "--no-face",
                "whole",
                "--cache-dir",
                cache,
                "--folds",
                "3",
                "--epochs",
                "1",
                "--protocol",
                "subject",
                "--project",
                str(tmp_path / "runs"),
                "-q",
            ]
        )
        == 0
    )
    assert sorted(os.listdir(cache)) == entries  # read from the same entry, nothing new prepared
    assert "jaffe subject:" in capsys.readouterr().out


def test_a_first_run_checks_the_layout_before_listing_files(tmp_path, monkeypatch):
    from mffcnn.data import cache
    from mffcnn.errors import MffcnnError

    def never(root):
        raise AssertionError("walked the tree of a root that is not a dataset")

    monkeypatch.setattr(cache, "files_signature", never)
    (tmp_path / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(MffcnnError, match="does not look like JAFFE"):
        load_dataset("jaffe", tmp_path, cache=tmp_path / "c")
