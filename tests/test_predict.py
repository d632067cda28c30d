"""predict: images, folders, video, arrays and webcams; what it writes and says about bad inputs."""

import csv
import json

import cv2
import numpy as np
import pytest
from conftest import UNTRAINED_CLASSES as CLASSES

from mffcnn import predict as lib
from mffcnn.cli import main
from mffcnn.data.face import PREDICT_DETECTOR
from mffcnn.data.labels import EXPRESSIONS7
from mffcnn.errors import MffcnnError

ASTRONAUT = lib.SAMPLE_IMAGE  # NASA portrait, public domain; the Haar cascade finds its one face


@pytest.fixture(scope="module")
def model(model_path):
    return lib.load_model(model_path)


@pytest.fixture(scope="module")
def astronaut():
    return cv2.imread(str(ASTRONAUT))  # (512, 512, 3) BGR


@pytest.fixture
def mixed_folder(tmp_path, astronaut):
    """Good photos (one in a subfolder), a photo without a face, a corrupt file and a non-image file."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    cv2.imwrite(str(root / "astronaut.jpg"), astronaut)
    cv2.imwrite(str(root / "sub" / "two.png"), np.hstack([astronaut, astronaut]))  # two faces in one photo
    cv2.imwrite(str(root / "wall.png"), np.full((300, 400), 128, np.uint8))
    (root / "broken.jpg").write_bytes((root / "astronaut.jpg").read_bytes()[:300])  # truncated JPEG
    (root / "notes.txt").write_text("not a photo")
    return root


def test_folder_mixing_good_bad_and_faceless_files(mixed_folder, model, capsys):
    r = lib.predict(mixed_folder, model=model)
    by_file = {res.file.rsplit("/", 1)[-1]: res for res in r.results}
    assert sorted(by_file) == ["astronaut.jpg", "broken.jpg", "notes.txt", "two.png", "wall.png"]  # nothing dropped
    assert by_file["astronaut.jpg"].status == "ok" and len(by_file["astronaut.jpg"].faces) == 1
    assert len(by_file["two.png"].faces) == 2  # every face, not only the largest
    assert by_file["two.png"].faces[0].box[0] < by_file["two.png"].faces[1].box[0]  # left to right
    assert by_file["wall.png"].status == "no_face" and by_file["wall.png"].faces == []
    assert by_file["broken.jpg"].status == "unreadable" and "corrupt" in by_file["broken.jpg"].error
    assert by_file["notes.txt"].status == "unreadable" and "not an image" in by_file["notes.txt"].error
    s = r.summary
    assert (s.files, s.images, s.faces, s.images_without_faces, s.unreadable) == (5, 3, 3, 1, 2)
    assert s.line().startswith("5 files: 3 images; 3 faces; 1 image without a face; 2 unreadable files")
    err = capsys.readouterr().err
    for name, why in [
        ("broken.jpg", "corrupt or truncated"),
        ("notes.txt", "not an image or video"),
        ("wall.png", "no face found"),
    ]:
        assert f"{name}: {why}" in err
    assert "Traceback" not in err

    face = by_file["astronaut.jpg"].faces[0]
    x, y, w, h = face.box
    assert 150 < x < 210 and 40 < y < 100 and 80 < w < 120  # Eileen Collins' face
    assert list(face.probabilities) == CLASSES and sum(face.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert face.label == max(face.probabilities, key=face.probabilities.get)
    assert face.score == face.probabilities[face.label]


def test_arrays_grey_and_bgr_give_the_same_faces(model, astronaut):
    grey = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    r = lib.predict([astronaut, grey], model=model)
    a, b = r.results
    assert a.file == "<array 0>" and b.file == "<array 1>"
    assert a.faces[0].box == b.faces[0].box
    assert a.faces[0].probabilities == pytest.approx(b.faces[0].probabilities, abs=1e-5)
    assert model.predict(grey).results[0].faces[0].label == b.faces[0].label  # Model.predict is the same call


def test_no_detect_classifies_the_whole_crop(model, astronaut):
    crop = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)[66:160, 177:271]  # already a face
    r = lib.predict(crop, model=model, detect=False)
    assert r.results[0].faces[0].box == [0, 0, 94, 94] and r.summary.faces == 1
    blank = lib.predict(np.full((60, 60), 200, np.uint8), model=model, detect=False)
    assert blank.summary.faces == 1  # without detection every image is a face, even a blank one


def test_flip_averages_a_face_with_its_mirror_image(model, astronaut, model_path, tmp_path, capsys):
    from mffcnn.predict.faces import choose_detector

    grey = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    crops = np.stack(
        [lib.find_faces(grey, model.preprocessing, detector=choose_detector(model.preprocessing))[1][0]] * 2
    )
    crops[1] = crops[1][:, ::-1]  # the second face is the first's mirror image
    plain, mirrored = model.probabilities(crops)
    assert not np.allclose(plain, mirrored, atol=1e-4)  # the untrained model is not symmetric
    both = model.probabilities(crops, flip=True)
    assert both[0] == pytest.approx((plain + mirrored) / 2, abs=1e-5) and both[1] == pytest.approx(both[0], abs=1e-5)
    r = lib.predict(astronaut, model=model)  # on by default (backends.FLIP)
    off = lib.predict(astronaut, model=model, flip=False)
    assert r.model["flip"] is True and off.model["flip"] is False
    assert list(r.results[0].faces[0].probabilities.values()) == pytest.approx(list(both[0]), abs=1e-4)
    assert list(off.results[0].faces[0].probabilities.values()) == pytest.approx(list(plain), abs=1e-4)
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "a.png"), astronaut)
    for flag, used in (([], True), (["--no-flip"], False), (["--flip"], True)):
        out = tmp_path / f"o{len(flag)}{used}"
        assert main(["predict", str(tmp_path / "in"), "--model", str(model_path), *flag, "-o", str(out), "-q"]) == 0
        assert json.loads((out / "predictions.json").read_text())["model"]["flip"] is used


def test_batching_does_not_change_results(mixed_folder, model):
    one = lib.predict(mixed_folder, model=model, batch_size=1)
    many = lib.predict(mixed_folder, model=model, batch_size=64)
    probs = lambda r: [f.probabilities for res in r.results for f in res.faces]
    assert [res.file for res in one.results] == [res.file for res in many.results]
    for p, q in zip(probs(one), probs(many)):
        assert p == pytest.approx(q, abs=1e-5)


def write_video(path, astronaut, frames=6, fps=5.0, fourcc="MJPG"):
    """A tiny video: the astronaut on even frames, a blank wall on odd ones."""
    small = cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (384, 384))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(small if i % 2 == 0 else np.full_like(small, 90))
    writer.release()


def test_video_frames_timestamps_and_annotated_output(tmp_path, model, astronaut):
    video = tmp_path / "clip.avi"
    write_video(video, astronaut)
    r = lib.predict(video, model=model, save_dir=tmp_path / "out")
    assert [res.frame for res in r.results] == [0, 1, 2, 3, 4, 5]
    assert [res.time for res in r.results] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert [len(res.faces) for res in r.results] == [1, 0, 1, 0, 1, 0]
    assert [res.status for res in r.results] == ["ok", "no_face"] * 3
    s = r.summary
    assert (s.videos, s.frames, s.faces, s.frames_without_faces, s.images) == (1, 6, 3, 3, 0)
    assert s.line().startswith("1 file: 1 video (6 frames); 3 faces; 3 frames without a face; 0 unreadable files")
    out = cv2.VideoCapture(str(tmp_path / "out" / "clip.mp4"))
    assert out.isOpened() and int(out.get(cv2.CAP_PROP_FRAME_COUNT)) == 6

    strided = lib.predict(video, model=model, video_stride=2, max_frames=2)
    assert [res.frame for res in strided.results] == [0, 2]


def test_unreadable_video_is_a_warning_not_a_crash(tmp_path, model, capsys):
    (tmp_path / "bad.mp4").write_bytes(b"not a video" * 50)
    r = lib.predict(tmp_path / "bad.mp4", model=model)
    assert r.results[0].status == "unreadable" and r.summary.unreadable == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"mffcnn: warning: {tmp_path / 'bad.mp4'}: not a readable video (corrupt, or a codec OpenCV "
        "cannot decode); skipped"
    ]


def test_webcam_that_cannot_open_is_one_clear_line(model_path, tmp_path, capsys):
    with pytest.raises(MffcnnError, match="cannot open webcam 97"):
        lib.predict("webcam:97", model=model_path)
    assert main(["predict", "--webcam", "98", "--model", str(model_path), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mffcnn: error: cannot open webcam 98")
    assert not any("WARN" in line or "Traceback" in line for line in err)


def test_writers_json_and_csv(mixed_folder, model, tmp_path):
    r = lib.predict(mixed_folder, model=model)
    paths = lib.get_writer("all", tmp_path / "o")(r)
    assert [p.name for p in paths] == ["predictions.json", "predictions.csv"]
    data = json.loads(paths[0].read_text())
    assert data["class_names"] == CLASSES and data["summary"]["faces"] == 3
    assert [res["status"] for res in data["results"]] == ["ok", "unreadable", "unreadable", "ok", "no_face"]
    assert data["results"][0]["faces"][0]["box"] == r.results[0].faces[0].box
    rows = list(csv.DictReader(paths[1].open()))
    assert len(rows) == 6  # 3 faces + a faceless image + 2 unreadable files
    assert list(rows[0])[:11] == ["file", "frame", "time", "status", "face", "x", "y", "w", "h", "label", "score"]
    assert [c for c in rows[0] if c.startswith("p_")] == [f"p_{c}" for c in CLASSES]
    assert rows[1]["status"] == "unreadable" and rows[1]["label"] == "" and rows[1]["error"]
    with pytest.raises(MffcnnError, match="unknown output format"):
        lib.get_writer("xml", tmp_path)


def test_cli_predict_end_to_end(mixed_folder, model_path, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "predict",
            str(mixed_folder),
            "--model",
            str(model_path),
            "--output",
            str(out),
            "--save",
            "--output-format",
            "csv",
            "-q",
        ]
    )
    assert code == 0
    stdout = capsys.readouterr().out.strip().splitlines()
    assert stdout[-2].startswith("5 files: 3 images; 3 faces; 1 image without a face; 2 unreadable files")
    assert (out / "predictions.csv").exists() and not (out / "predictions.json").exists()
    annotated = cv2.imread(str(out / "astronaut.jpg"))
    assert annotated is not None and annotated.shape == (512, 512, 3)
    assert (out / "sub" / "two.png").exists()  # the folder's layout is kept
    assert not (out / "notes.png").exists()


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["predict"], "needs an input"),
        (["predict", "/no/such/photo.jpg"], "does not exist"),
        (["predict", str(ASTRONAUT), "--model", "/no/model.safetensors"], "does not exist"),
        (["predict", "webcam:x"], "webcam index must be a number"),
    ],
)
def test_cli_user_errors(argv, expected, tmp_path, capsys):
    assert main(argv + ["--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mffcnn: error:") and expected in err[-1]


def test_models_that_are_not_ours_give_clear_errors(tmp_path, monkeypatch):
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x07garbage")
    with pytest.raises(MffcnnError, match="not a readable ONNX model"):
        lib.load_model(tmp_path / "junk.onnx")
    (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(MffcnnError, match="not a TorchScript file"):
        lib.load_model(tmp_path / "junk.pt")
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{tampered header")
    with pytest.raises(MffcnnError, match="not a readable safetensors"):
        lib.load_model(tmp_path / "junk.safetensors")
    monkeypatch.setattr(lib.backends, "DEFAULT_MODEL", tmp_path / "missing.safetensors")
    with pytest.raises(MffcnnError, match="bundled model is missing"):
        lib.load_model()


def test_bundled_model_finds_and_classifies_the_sample_photo():
    model = lib.load_model()
    assert model.backend == "onnx" and model.class_names == EXPRESSIONS7  # the 6 basic and neutral
    assert model.info["trained_on"] and "research" in model.info["licence"]
    r = model.predict(ASTRONAUT)
    assert r.summary.faces == 1 and r.results[0].faces[0].label == "happy"  # she smiles
    assert r.model["bundled"] is True


def test_the_bundled_onnx_file_is_the_bundled_checkpoint():
    """load_model() runs default.onnx: it must be the export of default.safetensors, not of an older model (after
    a new bundled model: mffcnn export --out mffcnn/weights/default.onnx)."""
    from pinned import synthetic_faces

    onnx, ckpt = lib.load_model(), lib.load_model(lib.backends.DEFAULT_MODEL)
    assert (onnx.path, ckpt.backend) == (lib.backends.DEFAULT_ONNX, "pytorch")
    assert (onnx.class_names, onnx.preprocessing) == (ckpt.class_names, ckpt.preprocessing)
    assert onnx.info == json.loads(json.dumps(ckpt.info))  # the checkpoint's info, through JSON
    faces = synthetic_faces()
    np.testing.assert_allclose(onnx.probabilities(faces), ckpt.probabilities(faces), atol=1e-4)  # export's bar


def test_predicting_with_the_bundled_model_loads_no_torch(tmp_path):
    """torch's import is most of the command's start-up; the bundled model runs by ONNX Runtime without it."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom mffcnn.cli import main\n"
        f"code = main(['predict', {str(lib.SAMPLE_IMAGE)!r}, '-o', {str(tmp_path / 'out')!r}, '-q'])\n"
        "print(code, 'torch' in sys.modules)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout.split()[-2:] == ["0", "False"], p.stdout + p.stderr


def test_bundled_model_script_trains_from_dataset_specs(ckplus48_root, tmp_path):
    """bench/train_default_model.py on a tiny CK+48 tree: the checkpoint says what it was trained on."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    out = tmp_path / "m.safetensors"
    p = subprocess.run(
        [
            sys.executable,
            str(repo / "bench" / "train_default_model.py"),
            f"ckplus48:{ckplus48_root}:contempt=true",
            "--epochs",
            "1",
            "--eval-folds",
            "3",
            "--eval-max-folds",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1"},
    )
    assert p.returncode == 0, p.stderr[-2000:]
    m = lib.load_model(out)
    assert m.class_names == CLASSES  # contempt is not one of the 6: left out, and said so
    assert "left out (not in the 6 classes): {'contempt': 6}" in p.stderr
    part = m.info["trained_on"][0]
    assert part["dataset"] == "ckplus48" and part["images"] == 108 and "research use only" in part["licence"]
    assert m.info["scores"]["subject_cv"]["folds_run"] == 1 and 0 <= m.info["scores"]["train_accuracy"] <= 1
    assert m.preprocessing.margin >= 0 and "accuracy on unseen people" in p.stdout


def test_small_faces_in_a_group_photo_need_min_face(model, astronaut):
    group = np.tile(cv2.resize(astronaut, (320, 320), interpolation=cv2.INTER_AREA), (3, 4, 1))  # 12 faces of ~62 px
    tuned = PREDICT_DETECTOR  # every trained model's: fast, faces ≥ 1/8
    assert lib.predict(group, model=model, detector=tuned).summary.faces == 0
    small = lib.detector_for_min_face(tuned, 0.03)
    assert small.max_side == 1067 and small.min_size == 0.03
    r = lib.predict(group, model=model, detector=small, batch_size=5)  # 12 faces over 3 network calls
    assert r.summary.faces == 12 and len({tuple(f.box) for f in r.results[0].faces}) == 12


class FakeCamera:
    """Stands in for cv2.VideoCapture(index): frames of a face, then Ctrl-C, as a user stops a webcam run."""

    def __init__(self, frame, frames_before_ctrl_c):
        self.frame, self.left = frame, frames_before_ctrl_c

    def isOpened(self):
        return True

    def read(self):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return True, self.frame.copy()

    def get(self, prop):
        return 0.0

    def release(self):
        pass


def test_webcam_answers_every_frame_and_ctrl_c_ends_it(model, astronaut, monkeypatch, tmp_path):
    real = cv2.VideoCapture
    camera = lambda src: FakeCamera(astronaut, 3) if isinstance(src, int) else real(src)  # noqa: E731
    monkeypatch.setattr(cv2, "VideoCapture", camera)
    live = []
    r = lib.predict(0, model=model, on_frame=live.append, save_dir=tmp_path)
    assert [x.frame for x in live] == [0, 1, 2] and [x.file for x in live] == ["webcam:0"] * 3
    assert all(len(x.faces) == 1 for x in live) and r.summary.frames == 3 and r.summary.files == 0
    assert r.summary.line().startswith("1 webcam (3 frames); 3 faces; 0 frames without a face; 0 unreadable files")
    assert live[0].time <= live[1].time <= live[2].time
    assert (tmp_path / "webcam_0.mp4").exists()
    assert lib.predict("webcam:0", model=model, max_frames=2).summary.frames == 2
