"""Videos that tell a story: track ids across frames, smoothed labels, a timeline per person (issue 18).

The clips are made here (mffcnn/data/clips.py: the sample photo's face and synthetic faces). The end-to-end tests
of the known change run a real MFF-CNN, trained here in seconds on the drawn person's own neutral and surprised
faces (`reader`): the bundled model learns from photos of real faces and reads cartoon faces as it likes (the one
bundled since 2026-12-01 calls this drawn neutral face fear), so a test of tracking and smoothing must not hang on
it. The other end-to-end tests run the bundled model."""

import csv
import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mffcnn import predict as lib
from mffcnn.cli import main
from mffcnn.data.clips import CHANGE_FRAME, FPS, identity_switches, make_clip, person_at
from mffcnn.data.face import PREDICT_DETECTOR, detect_faces
from mffcnn.data.images import to_grey_uint8
from mffcnn.predict.smoothing import SMOOTHING, Smoother, ema
from mffcnn.predict.tracking import Tracker


@pytest.fixture(scope="module")
def bundled():
    return lib.load_model()


def changes(labels) -> int:
    return sum(a != b for a, b in zip(labels, labels[1:]))


# --- smoothing, on known probability sequences ------------------------------------------------------------


def test_ema_follows_a_step_after_tau_ln2_whatever_the_stride():
    """From certain "a" to certain "b": the smoothed label turns when (1 − α)^n < 1/2, i.e. after τ·ln 2 s,
    at any frame rate (α = 1 − exp(−Δt/τ))."""
    for dt in (0.04, 0.12, 0.2):
        n = 40
        p = np.array([[1.0, 0.0]] * 10 + [[0.0, 1.0]] * n)
        times = np.arange(len(p)) * dt
        s = ema(times, p, tau=0.5)
        first_b = int(np.argmax(s[:, 1] > 0.5))
        seen = first_b - 9  # frames of "b" smoothed in when the label turns
        assert seen == int(np.ceil(0.5 * np.log(2) / dt))
        assert abs(seen * dt - 0.5 * np.log(2)) <= dt  # the delay is in seconds, not frames


def test_ema_steadies_a_flickering_sequence_and_zero_tau_is_raw():
    rng = np.random.default_rng(0)
    base = np.tile([0.55, 0.45], (200, 1))  # a steady face, a little more "a" than "b"
    p = np.clip(base + rng.normal(0, 0.12, (200, 1)) * [1, -1], 0, 1)
    times = np.arange(200) / 25
    raw = p.argmax(1)
    smooth = ema(times, p, tau=SMOOTHING).argmax(1)
    assert changes(list(raw)) > 30 and changes(list(smooth)) <= 2
    np.testing.assert_array_equal(ema(times, p, tau=0), p)


def test_smoother_keeps_each_track_apart_and_restarts_after_a_gap():
    s = Smoother(tau=0.5)
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert np.allclose(s.update(1, 0.0, a), a) and np.allclose(s.update(2, 0.0, b), b)  # first frame: itself
    mid = s.update(1, 0.04, b)
    assert 0.05 < mid[1] < 0.1  # α = 1 − e^(−0.08)
    assert s.update(2, 0.04, b)[1] == pytest.approx(1.0)  # track 2 did not see track 1's frame
    assert s.update(1, 30.0, b)[1] == pytest.approx(1.0)  # seen again after 30 s: its new face at once


# --- tracking, on the made clips ----------------------------------------------------------------------------


@functools.cache
def detected(name):
    """A made clip and predict's face boxes in each of its frames (left to right, as predict orders them)."""
    clip = make_clip(name)
    boxes = [sorted(detect_faces(to_grey_uint8(f), PREDICT_DETECTOR), key=lambda b: (b.x, b.y)) for f in clip.frames]
    return clip, boxes


def tracked(name, stride=1):
    clip, boxes = detected(name)
    tracker = Tracker(clip.fps / stride)
    out = [[(b.to_list(), t) for b, t in zip(frame, tracker.update(frame))] for frame in boxes[::stride]]
    return clip, out, identity_switches(clip.truth[::stride], out)


@pytest.mark.parametrize("stride", [1, 3])
def test_one_moving_person_keeps_one_id(stride):
    _, out, score = tracked("moving", stride)
    p = score["people"]["astronaut"]
    assert p["tracks"] == [1] and p["switches"] == 0 and score["mixed"] == 0
    assert p["frames"] >= 0.9 * len(out)


def test_two_people_crossing_never_share_an_id():
    clip, out, score = tracked("crossing")
    people = score["people"]
    assert set(people) == {"astronaut", "drawn"} and score["mixed"] == 0
    assert people["astronaut"]["switches"] == 0  # in front: seen all the way
    # The drawn face is hidden behind her square for more than the tracker's memory: it comes back as a new
    # id (counted: 1 switch), never as hers.
    assert people["drawn"]["switches"] <= 1
    assert not set(people["drawn"]["tracks"]) & set(people["astronaut"]["tracks"])


def test_leaving_and_coming_back_is_a_new_id_and_nothing_mixed():
    clip, out, score = tracked("leave_return")
    ids = [t for frame in out for _, t in frame if t is not None]
    p = score["people"]["astronaut"]
    assert p["tracks"] == [1, 2] and p["switches"] == 1 and score["mixed"] == 0
    first_two = ids.index(2)
    assert set(ids[:first_two]) == {1} and set(ids[first_two:]) == {2}  # before she left, and after she came back
    away = [i for i, seen in enumerate(clip.truth) if not seen]
    assert away and all(not frame for i, frame in enumerate(out) if i in away)


def test_person_at_prefers_the_one_in_front():
    clip, _ = detected("crossing")
    seen = clip.truth[50]  # mid-clip: her square covers the drawn face
    x, y, w, h = seen[-1].box
    assert seen[-1].person == "astronaut" and person_at(seen, x + w / 2, y + h / 2).person == "astronaut"
    assert person_at(seen, -5, -5) is None


# --- end to end: the bundled model on a made clip -------------------------------------------------------------


@pytest.fixture(scope="module")
def reader(tmp_path_factory, bundled):
    """A 2-class MFF-CNN (neutral, surprise) trained on the change clip's drawn person, cut as the bundled model
    cuts faces (bench/tracking.py's train_reader, which the benchmark uses too)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from tracking import train_reader

    return lib.load_model(train_reader(bundled.preprocessing, tmp_path_factory.mktemp("reader") / "reader.safetensors"))


@pytest.fixture(scope="module")
def change_video(tmp_path_factory):
    return make_clip("change").write(tmp_path_factory.mktemp("clips") / "change.avi")


def test_predict_tracks_smooths_and_follows_a_known_change(change_video, reader, tmp_path):
    r = lib.predict(change_video, model=reader, save_dir=tmp_path / "out")
    tracks = r.tracks
    assert len(tracks) == 1 and tracks[0].track == 1
    t = tracks[0]
    assert t.class_names == reader.class_names and len(t.frames) >= 80 and len(t.smoothed) == len(t.frames)
    before = [lab for f, lab in zip(t.frames, t.smoothed_labels) if f < CHANGE_FRAME]
    after = [lab for f, lab in zip(t.frames, t.smoothed_labels) if f >= CHANGE_FRAME + FPS]
    assert set(before) == {"neutral"} and set(after) == {"surprise"}
    followed = next(f for f, lab in zip(t.frames, t.smoothed_labels) if f >= CHANGE_FRAME and lab == "surprise")
    assert CHANGE_FRAME <= followed <= CHANGE_FRAME + FPS  # within a second of the change
    assert changes(t.smoothed_labels) == 1 and changes(t.labels) >= changes(t.smoothed_labels)
    summary = t.summary()
    assert set(summary["share"]) == {"neutral", "surprise"} and summary["began"]["surprise"][0] >= CHANGE_FRAME / FPS
    assert sum(summary["share"].values()) == pytest.approx(1.0, abs=1e-3)

    out = tmp_path / "out"
    assert (out / "change.mp4").exists() or (out / "change.avi").exists()
    png = out / "timelines" / "change_track1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "timelines" / "timelines.json").read_text())[0]["began"] == summary["began"]


def test_cli_writes_track_and_smoothed_columns_and_options_switch_them(change_video, tmp_path, capsys):
    run = lambda out, *options: main(["predict", str(change_video), "-o", str(tmp_path / out), "-q", *options])
    assert run("a", "--max-frames", "30") == 0
    rows = list(csv.DictReader(open(tmp_path / "a" / "predictions.csv")))
    faces = [row for row in rows if row["face"] != ""]
    assert faces and {row["track"] for row in faces if row["track"]} == {"1"}
    assert all(row["smoothed_label"] for row in faces if row["track"])
    j = json.loads((tmp_path / "a" / "predictions.json").read_text())
    face = next(f for res in j["results"] for f in res["faces"] if f["track"] is not None)
    assert set(face["smoothed_probabilities"]) == set(j["class_names"])

    assert run("b", "--max-frames", "10", "--smooth", "0") == 0
    j = json.loads((tmp_path / "b" / "predictions.json").read_text())
    faces = [f for res in j["results"] for f in res["faces"]]
    assert any(f["track"] == 1 for f in faces) and all(f["smoothed_label"] is None for f in faces)

    assert run("c", "--max-frames", "10", "--no-track") == 0
    j = json.loads((tmp_path / "c" / "predictions.json").read_text())
    assert all(f["track"] is None for res in j["results"] for f in res["faces"])

    with pytest.raises(SystemExit) as bad:  # refused while the command line is parsed (commands/values.py)
        run("d", "--smooth", "-1")
    assert bad.value.code == 2 and "--smooth" in capsys.readouterr().err


def test_stride_keeps_tracking_and_smoothing_in_seconds(change_video, reader):
    r = lib.predict(change_video, model=reader, video_stride=4)
    (t,) = r.tracks
    assert t.frames == sorted(t.frames) and all(f % 4 == 0 for f in t.frames) and len(t.frames) >= 15
    followed = next(f for f, lab in zip(t.frames, t.smoothed_labels) if f >= CHANGE_FRAME and lab == "surprise")
    assert CHANGE_FRAME <= followed <= CHANGE_FRAME + FPS


def test_photos_have_no_track_keys_and_predict_imports_no_tracker_or_plotting():
    r = lib.predict(lib.SAMPLE_IMAGE)
    assert "track" not in r.to_dict()["results"][0]["faces"][0] and r.tracks == []
    code = (
        "import sys; import mffcnn.predict as p; p.predict(p.SAMPLE_IMAGE); "
        "print(sorted(m for m in ('matplotlib', 'norfair') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


class ClipCamera:
    """Stands in for cv2.VideoCapture(index): a made clip's frames, then Ctrl-C, as a user stops a webcam run."""

    def __init__(self, frames):
        self.frames = list(frames)

    def isOpened(self):
        return True

    def read(self):
        if not self.frames:
            raise KeyboardInterrupt
        return True, self.frames.pop(0)

    def get(self, prop):
        return 0.0

    def release(self):
        pass


def test_the_webcam_view_shows_each_persons_track_and_steady_label(bundled, monkeypatch, tmp_path, capsys):
    import cv2

    clip, _ = detected("moving")
    real = cv2.VideoCapture
    monkeypatch.setattr(
        cv2, "VideoCapture", lambda src: ClipCamera(clip.frames[:8]) if isinstance(src, int) else real(src)
    )
    assert main(["predict", "--webcam", "0", "-o", str(tmp_path), "--save"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("webcam:0 frame")]
    assert len(lines) == 8 and "#1 happy" in lines[-1] and "(raw happy" in lines[-1]
    assert (tmp_path / "timelines" / "webcam_0_track1.png").exists()


# --- the serve page's camera: a tracker and a smoother per session ------------------------------------------


def test_serve_camera_sessions_track_and_smooth_frame_after_frame(bundled):
    import cv2
    from fastapi.testclient import TestClient

    from mffcnn.serve import create_app
    from mffcnn.serve.tracks import Sessions

    clip, _ = detected("moving")
    frames = [cv2.imencode(".jpg", f)[1].tobytes() for f in clip.frames[:6]]
    with TestClient(create_app(bundled, threads=1)) as client:
        answers = [
            client.post("/predict?track=cam-a", files={"files": ("camera.jpg", f, "image/jpeg")}).json()["results"][0]
            for f in frames
        ]
        other = client.post("/predict?track=cam-b", files={"files": ("camera.jpg", frames[0], "image/jpeg")}).json()
        plain = client.post("/predict", files={"files": ("camera.jpg", frames[0], "image/jpeg")}).json()
        too_long = client.post("/predict?track=" + "x" * 200, files={"files": ("camera.jpg", frames[0], "image/jpeg")})
    assert [a["frame"] for a in answers] == list(range(6)) and answers[-1]["time"] >= answers[1]["time"] > 0
    faces = [a["faces"][0] for a in answers if a["faces"]]
    assert len(faces) >= 5 and {f["track"] for f in faces[-3:]} == {1}  # confirmed after its first frames
    assert all(f["smoothed_label"] == "happy" for f in faces if f["track"])
    assert other["results"][0]["frame"] == 0  # a session of its own
    assert "track" not in plain["results"][0]["faces"][0]  # without a session: a photo, as before
    assert too_long.status_code == 422

    s = Sessions(most=2)
    for name in ("a", "b", "c"):
        s.follow(name, lib.FrameResult(file="x"), bundled.class_names)
    assert len(s) == 2  # the oldest session went first


def test_the_camera_page_in_a_real_browser_shows_tracks_and_the_timeline(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from serve_browser import find_chromium
    from serve_camera import camera_clip, run_camera
    from serve_process import ServerProcess

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    y4m = camera_clip(tmp_path, seconds=2)
    with ServerProcess(["--threads", "1"]) as server:
        seen = run_camera(server.url + "/", y4m, seconds=3, screenshot=tmp_path / "shot.png")
    assert seen["labels"] and all(label.startswith("#1 ") for label in seen["labels"])
    (track,) = seen["history"]
    assert track[0] == 1 and track[1] >= 3  # points on the timeline of person #1
    assert not seen["problems"] and (tmp_path / "shot.png").stat().st_size > 1000
