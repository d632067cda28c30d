"""predict never writes over its inputs, never leaves half a file, and loses nothing (issue 17): Ctrl-C keeps
what was done, odd file names and odd files are reported, not crashed on or quietly skipped."""

import json
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mffcnn import predict as lib
from mffcnn.cli import main
from mffcnn.data.images import IMAGE_SUFFIXES, read_image
from mffcnn.predict import pipeline, results


@pytest.fixture(scope="module")
def astronaut():
    return cv2.imread(str(lib.SAMPLE_IMAGE))


@pytest.fixture
def photos(tmp_path, astronaut):
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(4):
        cv2.imwrite(str(root / f"p{i}.jpg"), np.roll(astronaut, 7 * i, axis=1))
    return root


def predict_cli(*argv) -> int:
    return main(["predict", *map(str, argv), "-q"])


def last_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return err[-1]


def test_save_never_writes_over_the_inputs(photos, model_path, capsys):
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    assert predict_cli(photos, "--save", "-o", photos, "--model", model_path) == 2
    assert "holds inputs" in last_error(capsys)
    assert predict_cli(photos / "p1.jpg", "--save", "-o", photos, "--model", model_path) == 2  # one file of it
    assert "holds inputs (" in last_error(capsys)
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before  # untouched, nothing added
    # A new folder inside the input folder holds no input: allowed.
    assert predict_cli(photos, "--save", "-o", photos / "annotated", "--model", model_path) == 0
    assert sorted(p.name for p in (photos / "annotated").iterdir()) == [
        "p0.jpg",
        "p1.jpg",
        "p2.jpg",
        "p3.jpg",
        "predictions.csv",
        "predictions.json",
    ]
    assert {p.name: p.read_bytes() for p in photos.iterdir() if p.is_file()} == before


def test_outputs_are_written_whole_or_not_at_all(photos, model_path, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "predictions.json").write_text('{"old": true}\n')

    def killed(*_):
        raise KeyboardInterrupt  # the moment of the rename: the old file must still be whole

    monkeypatch.setattr(results.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        lib.get_writer("json", out)(lib.predict(photos / "p0.jpg", model=model_path))
    assert json.loads((out / "predictions.json").read_text()) == {"old": True}
    assert sorted(p.name for p in out.iterdir()) == ["predictions.json"]  # no temporary file left behind


def test_a_video_appears_under_its_name_only_when_complete(tmp_path, astronaut):
    sink = lib.draw.Sink(tmp_path / "v.mp4", video=True, fps=5)
    for _ in range(3):
        sink.write(astronaut)
    assert not (tmp_path / "v.mp4").exists()
    sink.close()
    assert (tmp_path / "v.mp4").exists() and [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


def test_ctrl_c_in_a_folder_keeps_every_prediction_so_far(photos, model_path, tmp_path, monkeypatch, capsys):
    real, seen = pipeline._Run.image, []

    def image(self, src):
        if len(seen) == 2:
            raise KeyboardInterrupt
        seen.append(src.name)
        real(self, src)

    monkeypatch.setattr(pipeline._Run, "image", image)
    out = tmp_path / "out"
    assert predict_cli(photos, "--model", model_path, "-o", out) == 130
    assert "interrupted" in last_error(capsys)
    doc = json.loads((out / "predictions.json").read_text())
    assert doc["partial"] is True
    statuses = [(r["file"].rsplit("/", 1)[1], r["status"]) for r in doc["results"]]
    assert statuses == [("p0.jpg", "ok"), ("p1.jpg", "ok"), ("p2.jpg", "not_done"), ("p3.jpg", "not_done")]
    assert doc["summary"]["not_done"] == 2 and doc["summary"]["files"] == 4
    csv_text = (out / "predictions.csv").read_text()
    assert csv_text.count("not_done") == 2 and csv_text.count(",ok,") == 2


def test_ctrl_c_while_modules_load_is_one_line(monkeypatch, capsys):
    import mffcnn.cli

    def interrupted(_mode=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(mffcnn.cli, "build_parser", interrupted)
    assert main(["predict", "x.jpg"]) == 130
    assert capsys.readouterr().err == "mffcnn: interrupted\n"


def test_ctrl_c_during_an_import_is_sent_again_after_it(tmp_path, monkeypatch):
    """Inside an import a Ctrl-C is not raised (from torch's C++ it aborts the process): it is sent again later."""
    from mffcnn import interrupts

    sent = []

    class Timer:  # records what would be sent again, instead of sending a real SIGINT to pytest
        def __init__(self, delay, function, args):
            sent.append((delay, function, args))

        def start(self):
            pass

    monkeypatch.setattr(interrupts.threading, "Timer", Timer)
    (tmp_path / "being_imported.py").write_text(
        "import sys\nfrom mffcnn import interrupts\ninterrupts._on_sigint(2, sys._getframe())\nreached = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import being_imported

    assert being_imported.reached and sent == [(interrupts.RETRY_S, os.kill, (os.getpid(), 2))]
    assert not interrupts.importing(sys._getframe())
    with pytest.raises(KeyboardInterrupt):  # outside every import: at once
        interrupts._on_sigint(2, sys._getframe())
    assert len(sent) == 1
    sys.modules.pop("being_imported")


# The main module returns at once; Python, exiting, waits for the thread, which sends the Ctrl-C meanwhile.
CTRL_C_WHILE_PYTHON_EXITS = """
import os, signal, threading, time
from mffcnn.interrupts import remember_sigint
remember_sigint()
def late():
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)
threading.Thread(target=late).start()
"""


def test_a_ctrl_c_while_python_exits_ends_the_process_without_a_traceback():
    """Raised as a KeyboardInterrupt in Python's shutdown code it was printed as an ignored exception."""
    p = subprocess.run(
        [sys.executable, "-c", CTRL_C_WHILE_PYTHON_EXITS],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not ignored, even under a background job
    )
    assert (p.returncode, p.stderr) == (-signal.SIGINT, "")


def test_ctrl_c_in_the_first_second_of_a_real_process(tmp_path):
    """SIGINT at several moments of start-up (while torch and OpenCV load): one line, never a traceback."""
    import time

    for delay in (0.2, 0.5, 0.9, 1.4):
        p = subprocess.Popen(
            [sys.executable, "-m", "mffcnn", "predict", str(lib.SAMPLE_IMAGE), "-o", str(tmp_path / "o"), "-q"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not ignored, even under a background job
        )
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        if "init_import_site" in err:  # the signal came while Python itself started, before any mffcnn code ran
            continue
        assert "Traceback" not in err, (delay, err)
        # 130: main's answer; -SIGINT: the signal landed after main returned, as Python ends (seen once in 24).
        # Never -SIGABRT: a Ctrl-C raised inside torch's import, in C++, aborts (hence interrupts' deferral)
        assert p.returncode in (0, 130, -signal.SIGINT), (delay, p.returncode, err)
        lines = err.strip().splitlines()
        assert len(lines) <= 1 and all(line.startswith("mffcnn: interrupted") for line in lines), err


# A Ctrl-C that lands while the detector's threads start: as if `Thread.start` raised once the thread runs.
CTRL_C_IN_THREAD_START = """
import os, threading
from mffcnn.data import blazeface
os.cpu_count = lambda: 4  # a pool on any machine
start = threading.Thread.start
def start_then_ctrl_c(self):
    start(self)
    raise KeyboardInterrupt
threading.Thread.start = start_then_ctrl_c
try:
    list(blazeface._pool().map(abs, [-1, -2, -3]))
except KeyboardInterrupt:
    print("interrupted")
"""


def test_a_ctrl_c_while_the_detector_starts_its_threads_does_not_hold_the_exit():
    """Python waits at exit for threads that are not daemons; ThreadPoolExecutor's first thread, started but not
    yet registered when the Ctrl-C came, waited for work forever, and `mffcnn predict` never exited."""
    p = subprocess.run([sys.executable, "-c", CTRL_C_IN_THREAD_START], capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout.strip()) == (0, "interrupted"), p.stderr


def test_a_file_name_that_is_not_utf8(photos, model_path, tmp_path, capsys):
    odd = os.path.join(os.fsencode(photos), b"x\xff\xfey.jpg")
    with open(odd, "wb") as f:
        f.write((photos / "p0.jpg").read_bytes())
    out = tmp_path / "out"
    assert predict_cli(photos, "--model", model_path, "-o", out, "--save") == 0
    doc = json.loads((out / "predictions.json").read_bytes().decode("utf-8"))  # valid UTF-8
    names = [r["file"].rsplit("/", 1)[1] for r in doc["results"]]
    assert "x\\xff\\xfey.jpg" in names and len(names) == 5
    assert "x\\xff\\xfey.jpg" in (out / "predictions.csv").read_bytes().decode("utf-8")
    assert (out / "x\\xff\\xfey.jpg").exists()  # the annotated copy, under the name as shown


def radiance_header(w: int, h: int) -> bytes:
    return b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %d +X %d\n" % (h, w)


def test_a_format_whose_header_is_not_read_is_not_decoded(tmp_path, model_path, capsys):
    """An 8000 × 8000 Radiance HDR named .png: refused before decoding, and the message says only that."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "big.png").write_bytes(radiance_header(8000, 8000) + b"\x02\x02\x1f\x40" * 64)
    ok, small = cv2.imencode(".hdr", np.ones((100, 100, 3), np.float32))
    (tmp_path / "in" / "small.png").write_bytes(small.tobytes())
    r = lib.predict(tmp_path / "in", model=model_path)
    assert [x.status for x in r.results] == ["unreadable", "unreadable"]
    assert all("not an image in a format read here" in x.error and "not decoded" in x.error for x in r.results)
    assert read_image(tmp_path / "in" / "small.png", max_pixels=None).shape == (100, 100, 3)  # no limit: decoded


def test_symlink_loops_and_unreadable_folders_are_warnings(photos, model_path, monkeypatch, capsys):
    (photos / "sub").mkdir()
    os.symlink(photos, photos / "sub" / "loop")
    (photos / "locked").mkdir()
    (photos / "locked" / "hidden.jpg").write_bytes((photos / "p0.jpg").read_bytes())
    os.symlink(photos / "gone.jpg", photos / "dangling.jpg")
    scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)  # root may read any folder: refuse as a user's system would
    r = lib.predict(photos, model=model_path)
    err = capsys.readouterr().err
    assert "locked: cannot read this folder (Permission denied)" in err
    assert "loop: a link to" in err and "not followed again" in err
    assert "dangling.jpg: a link to" in err and "does not exist" in err
    assert len(r.results) == 4  # each photo once


def test_a_truncated_video_is_reported_incomplete(tmp_path, model_path, astronaut, capsys):
    path = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (128, 128))
    for i in range(30):
        w.write(cv2.resize(np.roll(astronaut, 5 * i, 1), (128, 128)))
    w.release()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 55 // 100])
    r = lib.predict(path, model=model_path)
    frames = [x for x in r.results if x.frame is not None]
    assert 0 < len(frames) < 30
    assert r.results[-1].status == "incomplete"
    assert (
        r.results[-1].error
        == f"incomplete video: {len(frames)} of the 30 frames its container announces could be decoded"
    )
    assert r.summary.incomplete_videos == 1 and r.summary.videos == 1
    assert (
        r.summary.line().startswith(f"1 file: 1 video ({len(frames)} frames);")
        and "1 incomplete video" in r.summary.line()
    )
    assert "incomplete video" in capsys.readouterr().err


def test_a_byte_flipped_jpeg_is_corrupt_not_faceless(tmp_path, model_path, astronaut, capfd):
    ok, enc = cv2.imencode(".jpg", astronaut)
    data = bytearray(enc.tobytes())
    rng = np.random.default_rng(0)
    for i in rng.integers(1000, len(data) - 10, 20):
        data[i] ^= 0xFF
    (tmp_path / "flipped.jpg").write_bytes(bytes(data))
    r = lib.predict(tmp_path / "flipped.jpg", model=model_path)
    assert r.results[0].status == "unreadable" and r.results[0].error.startswith("corrupt JPEG"), r.results[0]
    assert "Corrupt JPEG data" in r.results[0].error
    assert "Corrupt JPEG data" not in capfd.readouterr().err.replace(r.results[0].error, "")  # said once, by us


def test_gifs_are_read_everywhere(tmp_path, model_path, astronaut):
    """GIFs are images to predict, prepare, gradcam and serve alike (serve always read them)."""
    from PIL import Image

    from mffcnn.data.datasets import folder

    assert ".gif" in IMAGE_SUFFIXES
    Image.fromarray(cv2.cvtColor(astronaut, cv2.COLOR_BGR2RGB)).save(tmp_path / "a.gif")
    r = lib.predict(tmp_path / "a.gif", model=model_path)
    assert r.results[0].status == "ok" and len(r.results[0].faces) == 1
    for label in ("happy", "anger"):
        (tmp_path / "tree" / label).mkdir(parents=True)
        for i in range(2):
            face = cv2.resize(cv2.cvtColor(np.roll(astronaut, 9 * i, 1), cv2.COLOR_BGR2GRAY), (48, 48))
            Image.fromarray(face).save(tmp_path / "tree" / label / f"s{i}.gif")
    fs = folder.load(tmp_path / "tree")
    assert len(fs.labels) == 4
