"""Bad input in every dataset layout: a per-file warning and a count, never a traceback or a silent loss."""

import shutil

import cv2
import numpy as np
import pytest
from conftest import face_photo, make_ckplus, make_fer_csv, make_jaffe, make_sfew, synthetic_faces

from mffcnn.cli import main
from mffcnn.data.datasets import ckplus, fer2013, jaffe, sfew
from mffcnn.data.faceset import UNLABELLED
from mffcnn.data.images import read_grey
from mffcnn.data.preprocess import Preprocessing

WHOLE = Preprocessing(detect_face=True, no_face="whole")


def accounted(fs) -> bool:
    """Every file found is either kept or dropped with a reason."""
    s = fs.summary
    return all(c.found == c.kept + sum(c.dropped.values()) for c in s.classes.values())


@pytest.fixture(scope="module")
def jaffe_clean(tmp_path_factory):
    return make_jaffe(tmp_path_factory.mktemp("jaffe"), subjects=2, per_class=1)


@pytest.fixture
def jaffe_root(jaffe_clean, tmp_path):
    root = tmp_path / "jaffe"
    shutil.copytree(jaffe_clean, root)
    return root


def test_jaffe_bad_files_are_counted(jaffe_root, capsys):
    good = next(jaffe_root.glob("KA.AN1.*.tiff")).read_bytes()
    (jaffe_root / "KA.FE4.900.tiff").write_bytes(good[: len(good) // 4])  # truncated
    (jaffe_root / "KA.SA4.901.tiff").write_bytes(b"II*\0garbage")  # corrupt
    (jaffe_root / "KA.XX1.902.tiff").write_bytes(good)  # unknown expression code
    (jaffe_root / "IMG_0001.tiff").write_bytes(good)  # malformed name
    (jaffe_root / "KA-AN1-903.tiff").write_bytes(good)  # malformed name
    (jaffe_root / "README").write_text("JAFFE")  # not an image: a note, not a drop
    deep = face_photo(synthetic_faces(1, 1)[0][0], shape=(256, 256), side=160).astype(np.uint16) * 257
    cv2.imwrite(str(jaffe_root / "KM.HA4.904.tiff"), deep)  # 16-bit TIFF
    cv2.imwrite(str(jaffe_root / "KM.DI4.905.tiff"), np.zeros((256, 256), np.uint8))  # all black
    fs = jaffe.load(jaffe_root, augment=False, preprocessing=WHOLE)
    err = capsys.readouterr().err
    for name in ("KA.FE4.900", "KA.SA4.901", "KA.XX1.902", "IMG_0001", "KA-AN1-903", "KM.DI4.905"):
        assert name in err
    assert "Traceback" not in err
    c = fs.summary.classes
    assert c["fear"].dropped["unreadable"] == 1 and c["sadness"].dropped["unreadable"] == 1
    assert c[UNLABELLED].dropped == {"unknown expression code": 1, "name is not SUBJECT.EXPRn.ID.tiff": 2}
    assert c["disgust"].dropped["blank image"] == 1
    assert any(p.endswith("KM.HA4.904.tiff") for p in fs.paths)  # the 16-bit one is read, not dropped
    assert any("README" in n for n in fs.summary.notes)
    assert accounted(fs) and fs.summary.kept == 12 + 1


def test_palette_and_16bit_tiffs_read_as_grey(tmp_path):
    from PIL import Image

    face = face_photo(synthetic_faces(1, 1)[0][0], shape=(64, 64), side=40)
    Image.fromarray(face).convert("P").save(tmp_path / "p.tiff")
    cv2.imwrite(str(tmp_path / "d.tiff"), face.astype(np.uint16) * 257)
    for name in ("p.tiff", "d.tiff"):
        grey = read_grey(tmp_path / name)
        assert grey.dtype == np.uint8 and grey.shape == (64, 64)
        assert np.abs(grey.astype(int) - face).mean() < 3


def test_no_face_skip_or_whole_is_counted(jaffe_root, capsys):
    cv2.imwrite(str(jaffe_root / "KL.SU4.906.tiff"), np.tile(np.linspace(0, 255, 256, dtype=np.uint8), (256, 1)))
    fs = jaffe.load(jaffe_root, augment=False)  # default: skip
    assert fs.summary.classes["surprise"].dropped["no face found"] >= 1
    assert "KL.SU4.906.tiff: no face found; skipped" in capsys.readouterr().err
    whole = jaffe.load(jaffe_root, augment=False, preprocessing=WHOLE)
    assert whole.summary.classes["surprise"].whole_image >= 1 and "kept as whole image" in whole.summary.table()
    assert accounted(fs) and accounted(whole)


@pytest.fixture(scope="module")
def ck_clean(tmp_path_factory):
    return make_ckplus(tmp_path_factory.mktemp("ck"), subjects=1, frames=3)


def test_ckplus_missing_malformed_and_unknown_labels(ck_clean, tmp_path, capsys):
    root = tmp_path / "ck"
    shutil.copytree(ck_clean, root)
    emotion = root / "Emotion" / "S005"
    next((emotion / "001").iterdir()).unlink()  # missing label file: the sequence is unlabelled
    next((emotion / "003").iterdir()).write_text("")  # empty label file
    next((emotion / "004").iterdir()).write_text("9.0000000e+00")  # unknown code
    next((emotion / "005").iterdir()).write_text("happy")  # not a number
    frame = next((root / "cohn-kanade-images" / "S005" / "006").iterdir())
    frame.write_bytes(frame.read_bytes()[:100])  # truncated frame
    fs = ckplus.load(root, preprocessing=WHOLE)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown expression code 9" in err and "unreadable label" in err
    c = fs.summary.classes
    assert c[UNLABELLED].dropped == {"unreadable label file": 2, "unknown expression code": 1}
    assert c["sadness"].dropped["unreadable"] == 1
    assert "2 sequences have no emotion label" in " ".join(fs.summary.notes)  # 001 and the unlabelled 009
    assert fs.class_names == ["sadness", "surprise"] and accounted(fs)


def test_sfew_rgba_corrupt_and_empty_folders(tmp_path, capsys):
    root = make_sfew(tmp_path / "sfew", black_val=0)
    disgust = root / "Train" / "Disgust"
    for p in disgust.iterdir():
        p.unlink()  # empty class folder
    face = cv2.imread(str(next((root / "Train" / "Happy").iterdir())))
    cv2.imwrite(
        str(root / "Train" / "Happy" / "Rgba_000000001_00000001.png"),
        np.dstack([face, np.full(face.shape[:2], 255, np.uint8)]),
    )  # RGBA
    (root / "Train" / "Sad" / "Broken_000000001_00000001.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (root / "Train" / "Sad" / "Thumbs.db").write_bytes(b"\0\1")
    (root / "Train" / "Contempt").mkdir()
    (root / "Train" / "Contempt" / "X_000000001_00000001.png").write_bytes(face.tobytes()[:10])
    fs = sfew.load(root)
    err = capsys.readouterr().err
    assert "Broken_000000001_00000001.png" in err and "Thumbs.db" in err and "Contempt" in err
    assert "disgust" not in fs.class_names and any("Disgust/ is empty" in n for n in fs.summary.notes)
    assert any(p.endswith("Rgba_000000001_00000001.png") for p in fs.paths)
    c = fs.summary.classes
    assert c["sadness"].dropped == {"unreadable": 1, "not an image file": 1}
    assert c[UNLABELLED].dropped["unknown emotion folder"] == 1 and accounted(fs)


def test_fer2013_malformed_rows(tmp_path, capsys):
    path = make_fer_csv(tmp_path / "fer2013.csv")
    good = path.read_text().splitlines()[1].split(",")[1]
    with path.open("a") as f:
        f.write(f"7,{good},Training\n")  # unknown emotion code
        f.write(f"x,{good},Training\n")  # emotion not a number
        f.write("3,1 2 3,Training\n")  # too few pixels
        f.write(f"3,{good.replace(' 1', ' a', 1) if ' 1' in good else 'a ' + good},Training\n")  # not a number
        f.write("2,,Training\n")  # no pixels
        f.write(f"2,{good},Secret\n")  # unknown Usage
        f.write(f"4,{' '.join(['0'] * 2304)},Training\n")  # a blank face (FER2013 has some)
        f.write("5\n")  # truncated row
    fs = fer2013.load(path)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "fer2013.csv:" in err
    c = fs.summary.classes
    assert c[UNLABELLED].dropped == {"unknown emotion code": 1, "malformed row": 3}
    assert c["happy"].dropped["malformed row"] == 2 and c["fear"].dropped["malformed row"] == 1
    assert c["sadness"].dropped["blank image"] == 1
    assert len(fs) == 14 and accounted(fs)


def test_bad_files_through_the_cli_are_warnings_not_tracebacks(jaffe_root, tmp_path, capsys):
    (jaffe_root / "KA.FE4.900.tiff").write_bytes(b"not a tiff")
    assert main(["prepare", "jaffe", str(jaffe_root), "--no-face", "whole", "--cache-dir", str(tmp_path / "c")]) == 0
    captured = capsys.readouterr()
    assert "KA.FE4.900.tiff: not an image in a format read here" in captured.err and "Traceback" not in captured.err
    assert "unreadable" in captured.out
