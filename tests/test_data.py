import cv2
import numpy as np
import pytest

from mffcnn.data import load_dataset
from mffcnn.data.datasets import ckplus48, folder, synthetic
from mffcnn.data.images import ImageError, read_grey, to_grey_uint8
from mffcnn.errors import MffcnnError


def test_ckplus48_loads_basic_classes_with_subjects(ckplus48_root):
    fs = ckplus48.load(ckplus48_root)
    assert fs.class_names == ["anger", "disgust", "fear", "happy", "sadness", "surprise"]
    assert len(fs) == 6 * 6 * 3 and fs.images.shape[1:] == (60, 60)
    assert set(fs.subjects) == {f"S{s:03d}" for s in range(10, 16)}
    assert fs.class_counts() == {c: 18 for c in fs.class_names}
    assert fs.summary.kept == len(fs) and fs.summary.dropped == 0


def test_ckplus48_contempt_on_request(ckplus48_root):
    fs = ckplus48.load(ckplus48_root, contempt=True)
    assert fs.class_names[1] == "contempt" and fs.class_counts()["contempt"] == 6


def test_ckplus48_wrong_layout_and_missing_root(tmp_path):
    with pytest.raises(MffcnnError, match="does not exist"):
        ckplus48.load(tmp_path / "nope")
    (tmp_path / "cats").mkdir()
    with pytest.raises(MffcnnError, match="does not look like CK\\+48"):
        ckplus48.load(tmp_path)


def test_bad_files_are_warned_and_counted_not_lost(ckplus48_root, tmp_path, capsys):
    import shutil

    root = tmp_path / "ck"
    shutil.copytree(ckplus48_root, root)
    (root / "fear" / "S099_003_00000001.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")  # corrupt
    good = (root / "happy").iterdir().__next__().read_bytes()
    (root / "happy" / "S099_004_00000001.png").write_bytes(good[: len(good) // 3])  # truncated
    (root / "sadness" / "notes.txt").write_text("hello")  # not an image
    (root / "surprise" / "IMG_0001.png").write_bytes(good)  # name without a subject
    fs = ckplus48.load(root)
    err = capsys.readouterr().err
    assert "S099_003_00000001.png" in err and "notes.txt" in err and "IMG_0001.png" in err
    c = fs.summary.classes
    assert c["fear"].dropped["unreadable"] == 1
    assert c["sadness"].dropped["not an image file"] == 1
    assert c["surprise"].dropped["no subject in name"] == 1
    truncated = c["happy"].dropped["unreadable"]
    assert c["happy"].found == 19 and c["happy"].kept + truncated == 19
    assert fs.summary.kept + fs.summary.dropped == sum(x.found for x in c.values())
    assert "unreadable" in fs.summary.table()


def test_empty_class_folder_is_reported_and_left_out(ckplus48_root, tmp_path, capsys):
    import shutil

    root = tmp_path / "ck"
    shutil.copytree(ckplus48_root, root)
    for p in (root / "fear").iterdir():
        p.unlink()
    fs = ckplus48.load(root)
    assert "fear" not in fs.class_names and len(fs.class_names) == 5
    assert any("empty" in n for n in fs.summary.notes)
    assert "fear" in capsys.readouterr().err
    assert fs.labels.max() == 4  # labels re-indexed onto the remaining classes


def test_folder_with_subject_regex(folder_root):
    fs = folder.load(folder_root, subject_regex=r"person(?P<subject>\d+)_")
    assert len(fs) == 60 and len(set(fs.subjects)) == 5
    assert fs.class_names == sorted(synthetic.CLASSES)


def test_folder_regex_miss_and_bad_regex(folder_root, capsys):
    with pytest.raises(MffcnnError, match="invalid --subject-regex"):
        folder.load(folder_root, subject_regex="(")
    fs = folder.load(folder_root, subject_regex=r"person00([0-2])_")  # persons 3, 4 do not match
    assert len(fs) == 36 and fs.summary.dropped == 24
    assert "does not match" in capsys.readouterr().err


def test_folder_without_classes(tmp_path):
    with pytest.raises(MffcnnError, match="no class sub-folders"):
        folder.load(tmp_path)


def test_synthetic_is_deterministic_and_balanced():
    a = synthetic.load(subjects=3, per_class=2, seed=5)
    b = synthetic.load(subjects=3, per_class=2, seed=5)
    c = synthetic.load(subjects=3, per_class=2, seed=6)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, c.images)
    assert a.synthetic and a.class_counts() == {k: 6 for k in synthetic.CLASSES}
    assert a.images.std() > 20  # real pictures, not flat fields


def test_load_dataset_rejects_unknown_names_and_options(ckplus48_root):
    with pytest.raises(MffcnnError, match="did you mean 'ckplus48'"):
        load_dataset("ckplus_48", ckplus48_root)
    with pytest.raises(MffcnnError, match="does not take"):
        load_dataset("ckplus48", ckplus48_root, subject_regex="x")
    with pytest.raises(MffcnnError, match="needs the path"):
        load_dataset("ckplus48")


@pytest.mark.parametrize(
    "image",
    [
        np.full((20, 30), 7, np.uint8),
        np.full((20, 30, 3), 200, np.uint8),
        np.full((20, 30, 4), 200, np.uint8),  # RGBA
        np.full((20, 30, 2), 200, np.uint8),  # grey + alpha
        (np.arange(600).reshape(20, 30) * 100).astype(np.uint16),  # 16-bit
        np.linspace(0, 1, 600, dtype=np.float32).reshape(20, 30),
    ],
)
def test_to_grey_uint8_handles_common_kinds(image):
    grey = to_grey_uint8(image)
    assert grey.dtype == np.uint8 and grey.shape == (20, 30)


def test_read_grey_16bit_png_and_errors(tmp_path):
    img = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), img)
    grey = read_grey(tmp_path / "deep.png")
    assert grey.dtype == np.uint8 and grey.max() > 200
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_grey(tmp_path / "empty.png")
    with pytest.raises(ImageError):
        read_grey(tmp_path / "missing.png")
