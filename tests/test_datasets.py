"""Each loader on a tiny tree in its dataset's real layout (tests/conftest.py builds them)."""

import numpy as np
import pytest
from conftest import make_ckplus, make_fer_csv, make_fer_folders, make_jaffe, make_oulu, make_sfew

from mffcnn.data import load_dataset
from mffcnn.data.datasets import ckplus, fer2013, jaffe, oulu, sfew
from mffcnn.data.labels import BASIC6, EXPRESSIONS7
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

WHOLE = Preprocessing(detect_face=True, no_face="whole")  # loader logic, independent of the detector's recall


def tree(name: str, make):
    """A module-scoped fixture `name`: a small tree in a dataset's real layout, made by `make`."""

    @pytest.fixture(scope="module", name=name)
    def fixture(tmp_path_factory):
        return make(tmp_path_factory.mktemp(name))

    return fixture


ckplus_root = tree("ckplus_root", make_ckplus)
jaffe_root = tree("jaffe_root", make_jaffe)
oulu_root = tree("oulu_root", make_oulu)
sfew_root = tree("sfew_root", make_sfew)


# --- CK+ original ------------------------------------------------------------------------------


def test_ckplus_last_three_frames_of_labelled_basic_sequences(ckplus_root):
    fs = ckplus.load(ckplus_root, preprocessing=WHOLE)
    assert fs.name == "ckplus" and fs.class_names == BASIC6
    assert fs.class_counts() == {c: 3 * 3 for c in BASIC6}  # 3 subjects × 1 sequence × last 3 frames
    assert all(p.endswith(("00000003.png", "00000004.png", "00000005.png")) for p in fs.paths)
    assert set(fs.subjects) == {"S005", "S006", "S007"}
    assert set(fs.groups) >= {"S005/001", "S007/007"}  # group = the sequence
    notes = " ".join(fs.summary.notes)
    assert "3 sequences have no emotion label" in notes and "3 sequences labelled contempt left out" in notes


def test_ckplus_contempt_and_neutral_on_request(ckplus_root):
    fs = ckplus.load(ckplus_root, contempt=True, neutral=True, preprocessing=WHOLE)
    assert fs.class_names == ["anger", "contempt", "disgust", "fear", "happy", "neutral", "sadness", "surprise"]
    counts = fs.class_counts()
    assert counts["contempt"] == 9 and counts["neutral"] == 3 * 7  # the first frame of each used sequence
    neutral = [p for p, y in zip(fs.paths, fs.labels) if fs.class_names[y] == "neutral"]
    assert all(p.endswith("00000001.png") for p in neutral)


def test_ckplus_detects_faces_by_default(ckplus_root):
    assert ckplus.PREPROCESSING.detect_face
    fs = ckplus.load(ckplus_root)
    assert fs.summary.kept + fs.summary.dropped == 54
    assert fs.summary.kept >= 48  # the Haar cascade finds nearly every synthetic face


def test_ckplus_wrong_layout(tmp_path):
    (tmp_path / "anger").mkdir()
    with pytest.raises(MffcnnError, match="does not look like CK\\+.*ckplus48"):
        ckplus.load(tmp_path)
    (tmp_path / "cohn-kanade-images").mkdir()
    with pytest.raises(MffcnnError, match="no Emotion/ folder"):
        ckplus.load(tmp_path)


# --- JAFFE -------------------------------------------------------------------------------------


def test_jaffe_paper_selection_augmented_by_default(jaffe_root):
    fs = jaffe.load(jaffe_root)
    assert fs.class_names == BASIC6 and fs.preprocessing.detect_face
    photos = fs.summary.kept
    assert photos >= 34 and len(fs) == 8 * photos  # 36 photos, each in 8 versions
    assert fs.summary.views == 8 and "images" in fs.summary.table()
    assert "3 neutral photos left out" in " ".join(fs.summary.notes)
    # every copy keeps its photo (group) and its person (subject)
    for group in set(fs.groups):
        idx = np.flatnonzero(fs.groups == group)
        assert len(idx) == 8 and len(set(fs.subjects[idx])) == 1 and len(set(fs.labels[idx])) == 1
        tags = sorted(fs.paths[i].split("#")[1] for i in idx if "#" in fs.paths[i])
        assert tags == sorted(["flip", "rot+5", "rot-5", "rot+10", "rot-10", "rot+15", "rot-15"])


def test_jaffe_neutral_and_no_augment(jaffe_root):
    fs = jaffe.load(jaffe_root, neutral=True, augment=False, preprocessing=WHOLE)
    assert fs.class_names == EXPRESSIONS7 and len(fs) == 36 + 3
    assert fs.class_counts()["neutral"] == 3
    assert set(fs.subjects) == {"KA", "KL", "KM"}


def test_jaffe_subject_folds_keep_copies_and_persons_together(jaffe_root):
    from mffcnn.train.folds import make_folds

    fs = jaffe.load(jaffe_root, preprocessing=WHOLE)
    for train, test in make_folds(fs, "subject", 3, seed=0):
        assert not set(fs.groups[train]) & set(fs.groups[test])
        assert not set(fs.subjects[train]) & set(fs.subjects[test])


def test_jaffe_wrong_layout(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(MffcnnError, match="does not look like JAFFE"):
        jaffe.load(tmp_path)


# --- Oulu-CASIA --------------------------------------------------------------------------------


def test_oulu_vis_strong_last_three_frames(oulu_root):
    fs = oulu.load(oulu_root, preprocessing=WHOLE)
    assert fs.name == "oulu" and fs.class_names == BASIC6
    assert fs.class_counts() == {c: 3 * 3 for c in BASIC6}  # 3 persons × last 3 of 4 frames
    assert all("/VL/Strong/" in p for p in fs.paths)
    assert all(p.endswith(("001.jpeg", "002.jpeg", "003.jpeg")) for p in fs.paths)
    assert set(fs.subjects) == {"P001", "P002", "P003"}
    assert fs.class_counts() == oulu.load(oulu_root / "OriginalImg", preprocessing=WHOLE).class_counts()


def test_oulu_camera_and_light_options(oulu_root):
    nir = oulu.load(oulu_root, camera="nir", preprocessing=WHOLE)
    assert all("/NI/Strong/" in p for p in nir.paths)
    weak = oulu.load(oulu_root, light="weak", frames=1, preprocessing=WHOLE)
    assert all("/VL/Weak/" in p for p in weak.paths) and len(weak) == 18
    with pytest.raises(MffcnnError, match="no VL/Dark/"):
        oulu.load(oulu_root, light="dark")
    with pytest.raises(MffcnnError, match="unknown camera"):
        oulu.load(oulu_root, camera="thermal")


def test_oulu_wrong_layout(tmp_path):
    (tmp_path / "P001").mkdir()
    with pytest.raises(MffcnnError, match="does not look like Oulu-CASIA"):
        oulu.load(tmp_path)


# --- SFEW 2.0 ----------------------------------------------------------------------------------


def test_sfew_splits_names_and_blank_images(sfew_root, capsys):
    train = sfew.load(sfew_root)
    assert train.class_names == EXPRESSIONS7 and not train.preprocessing.detect_face
    assert train.class_counts() == {c: 4 for c in EXPRESSIONS7}
    assert all("/Train/" in p for p in train.paths)
    assert "Airheads" in set(train.subjects)  # subject = the movie
    val = sfew.load(sfew_root, split="val")
    assert len(val) == 28 and val.summary.classes["happy"].dropped["blank image"] == 2
    assert "blank image" in val.summary.table() and "Hangover_000000000_00000001.png" in capsys.readouterr().err
    both = sfew.load(sfew_root, split="all")
    assert len(both) == 56


def test_sfew_accepts_the_release_nesting_and_a_split_folder(sfew_root, tmp_path):
    import shutil

    shutil.copytree(sfew_root / "Train", tmp_path / "Train" / "Train_Aligned_Faces")
    assert len(sfew.load(tmp_path)) == 28
    assert len(sfew.load(sfew_root / "Train")) == 28  # pointed at one split
    with pytest.raises(MffcnnError, match="no Val/ folder"):
        sfew.load(tmp_path, split="val")
    with pytest.raises(MffcnnError, match="unknown split"):
        sfew.load(sfew_root, split="test")


# --- FER2013 -----------------------------------------------------------------------------------


def test_fer2013_csv_usage_splits(tmp_path):
    path = make_fer_csv(tmp_path / "fer2013.csv")
    train = fer2013.load(tmp_path)  # the folder holding fer2013.csv
    assert train.class_names == EXPRESSIONS7 and len(train) == 14  # half of 24 + 2 neutral
    assert len(fer2013.load(path, split="val")) == 7 and len(fer2013.load(path, split="test")) == 7
    everything = fer2013.load(path, split="all")
    assert len(everything) == 28 and len(set(everything.subjects)) == 28  # no person ids
    assert any("no person ids" in n for n in everything.summary.notes)


def test_fer2013_icml_variant_columns(tmp_path):
    lines = make_fer_csv(tmp_path / "a.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    (tmp_path / "icml_face_data.csv").write_text(
        "emotion, Usage, pixels\n" + "\n".join(f"{e}, {u}, {p}" for e, p, u in rows) + "\n"
    )
    assert len(fer2013.load(tmp_path / "icml_face_data.csv", split="all")) == 28


def test_fer2013_folder_export(tmp_path):
    make_fer_folders(tmp_path)
    train, test = fer2013.load(tmp_path), fer2013.load(tmp_path, split="test")
    assert len(train) + len(test) == 24 + 4
    assert "neutral" in train.class_names
    with pytest.raises(MffcnnError, match="only train/ and test/"):
        fer2013.load(tmp_path, split="val")


def test_fer2013_not_there(tmp_path):
    with pytest.raises(MffcnnError, match="neither fer2013.csv nor"):
        fer2013.load(tmp_path)
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(MffcnnError, match="not the FER2013 csv"):
        fer2013.load(tmp_path / "x.csv")


# --- through load_dataset ----------------------------------------------------------------------


def test_aligned_datasets_skip_detection_and_flags_change_it(sfew_root, jaffe_root):
    assert not load_dataset("sfew", sfew_root).preprocessing.detect_face
    assert load_dataset("sfew", sfew_root, detect_face=True, no_face="whole").preprocessing.detect_face
    fs = load_dataset("jaffe", jaffe_root, detect_face=False, augment=False)
    assert not fs.preprocessing.detect_face and len(fs) == 36
    assert load_dataset("jaffe", jaffe_root, margin=0.2, augment=False).preprocessing.margin == 0.2
    with pytest.raises(MffcnnError, match="margin"):
        load_dataset("jaffe", jaffe_root, margin=-1)
    with pytest.raises(MffcnnError, match="does not take"):
        load_dataset("sfew", sfew_root, augment=True)


def test_folder_augment_on_request(folder_root):
    fs = load_dataset("folder", folder_root, subject_regex=r"person(?P<subject>\d+)_", augment=True)
    assert len(fs) == 60 * 8 and fs.summary.kept == 60 and len(set(fs.groups)) == 60
    assert any("face detection off" in n for n in fs.summary.notes)
