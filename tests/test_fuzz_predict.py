"""Property-based fuzzing of the predict path: random files (bytes under image, video and other
suffixes, truncated real images) and random numpy images (odd sizes, dtypes, channel counts) through
`mffcnn.predict.predict` with the bundled model. Every case ends in a result — faces, "no_face" or
"unreadable" with a reason — or a clear MffcnnError, never a crash or a hang.

MFFCNN_FUZZ_EXAMPLES raises the number of cases per test (bench/fuzz.py runs many more)."""

import os

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mffcnn.errors import MffcnnError
from mffcnn.predict import load_model, predict

FUZZ = settings(
    max_examples=int(os.environ.get("MFFCNN_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
DTYPES = st.sampled_from([np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64, np.bool_])
SUFFIXES = st.sampled_from([".png", ".jpg", ".tiff", ".bmp", ".mp4", ".avi", ".txt", ""])


@pytest.fixture(scope="module")
def model():
    return load_model(threads=1)


def _check(out, n_inputs: int) -> None:
    """One result per input at least (a video may give several), each one of the three statuses."""
    assert len(out.results) >= n_inputs
    for r in out.results:
        assert r.status in ("ok", "no_face", "unreadable")
        assert (r.status == "unreadable") == bool(r.error)
        for f in r.faces:
            assert abs(sum(f.probabilities.values()) - 1) < 1e-3 and f.label in f.probabilities
    assert out.summary.unreadable == sum(r.status == "unreadable" for r in out.results)


@FUZZ
@given(data=st.binary(min_size=0, max_size=2048), suffix=SUFFIXES)
def test_random_files(tmp_path, model, data, suffix):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    _check(predict(path, model=model, max_frames=3), 1)


@FUZZ
@given(cut=st.integers(min_value=0, max_value=4000), suffix=st.sampled_from([".png", ".jpg"]))
def test_truncated_photos(tmp_path, model, cut, suffix):
    rng = np.random.default_rng(cut)
    ok, buf = cv2.imencode(suffix, rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    path = tmp_path / f"photo{suffix}"
    path.write_bytes(buf.tobytes()[:cut])
    _check(predict(path, model=model), 1)


@FUZZ
@given(
    image=arrays(
        dtype=DTYPES,
        shape=st.one_of(
            st.tuples(st.integers(1, 80), st.integers(1, 80)),
            st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 2, 3, 4, 5])),
            st.sampled_from([(0, 10), (10, 0), (2000, 3), (3, 2000), (4, 4, 4, 4)]),
        ),
    ),
    detect=st.booleans(),
)
def test_random_arrays(model, image, detect):
    try:
        out = predict(image, model=model, detect=detect)
    except MffcnnError as e:  # a clear refusal is fine; a crash is not
        assert str(e)
    else:
        _check(out, 1)
        if detect is False and out.results[0].status == "ok":
            assert len(out.results[0].faces) == 1  # the whole image is the face
