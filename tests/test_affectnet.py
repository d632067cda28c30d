"""The AffectNet cut (train|valid/<class>/<name>.jpg) on a tiny tree in its layout, and its two sources."""

import pytest
from conftest import make_affectnet

from mffcnn.data import load_dataset
from mffcnn.data.datasets import affectnet
from mffcnn.data.labels import EXPRESSIONS7
from mffcnn.errors import MffcnnError


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_affectnet(tmp_path_factory.mktemp("affectnet"))


def count_files(root, split):
    return sum(1 for _ in (root / split).rglob("*.jpg"))


def test_splits_hold_what_their_folders_hold(root):
    train = affectnet.load(root)
    valid = affectnet.load(root, split="valid")
    both = affectnet.load(root, split="all")
    assert train.class_names == list(EXPRESSIONS7)
    assert len(train) == count_files(root, "train") and len(valid) == count_files(root, "valid")
    assert len(both) == len(train) + len(valid)
    assert all("/train/" in p for p in train.paths) and all("/valid/" in p for p in valid.paths)
    assert affectnet.load(root, split="val").paths == valid.paths  # SFEW's spelling works too
    assert len(set(train.subjects)) == len(train)  # no person ids: every image its own subject


def test_source_selects_the_ffhq_part_by_name_and_counts_the_rest(root):
    every = affectnet.load(root, split="all")
    own = affectnet.load(root, split="all", source="affectnet")
    ffhq = affectnet.load(root, split="all", source="ffhq")
    assert len(own) + len(ffhq) == len(every) and len(own) and len(ffhq)
    assert all(affectnet.source_of(p) == "ffhq" for p in ffhq.paths)
    assert not any("ffhq_" in p for p in own.paths)
    dropped = sum(c.dropped["source is ffhq (--source affectnet)"] for c in own.summary.classes.values())
    assert dropped == len(ffhq)  # left out, and counted


def test_loose_crops_are_cut_where_the_detector_frames_the_face(root):
    fs = affectnet.load(root)
    assert affectnet.PREPROCESSING.detect_face and affectnet.PREPROCESSING.no_face == "whole"
    assert fs.images.shape[1:] == (60, 60)
    whole = sum(c.whole_image for c in fs.summary.classes.values())
    assert whole < len(fs)  # most synthetic faces are found; the others are kept whole, and counted


def test_bad_layouts_and_options_are_clear_errors(root, tmp_path):
    with pytest.raises(MffcnnError, match="no train/ folder"):
        affectnet.load(tmp_path)
    with pytest.raises(MffcnnError, match="unknown split"):
        affectnet.load(root, split="test")
    with pytest.raises(MffcnnError, match="unknown source"):
        affectnet.load(root, source="web")
    (tmp_path / "train" / "Angry").mkdir(parents=True)
    with pytest.raises(MffcnnError, match="none of the class folders"):
        affectnet.load(tmp_path)


def test_a_root_that_is_one_split_is_used_as_it_is(root):
    fs = load_dataset("affectnet", root / "valid", cache=False)
    assert len(fs) == count_files(root, "valid")
    assert any("used as it is" in n for n in fs.summary.notes)
