"""Property-based fuzzing of image decoding and cropping: every input ends in a face or a clear
ImageError, never a crash or a hang. MFFCNN_FUZZ_EXAMPLES raises the number of cases per test
(bench/fuzz.py)."""

import os

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mffcnn.data.faceset import Record, build_faceset
from mffcnn.data.images import ImageError, read_grey, to_grey_uint8
from mffcnn.data.preprocess import Preprocessing

FUZZ = settings(
    max_examples=int(os.environ.get("MFFCNN_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
DTYPES = st.sampled_from([np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64, np.bool_])


def _valid_png(h=12, w=9) -> bytes:
    ok, buf = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (h, w), dtype=np.uint8))
    return buf.tobytes()


@FUZZ
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes(tmp_path, data):
    path = tmp_path / "x.png"
    path.write_bytes(data)
    try:
        grey = read_grey(path)
    except ImageError:
        return
    assert grey.dtype == np.uint8 and grey.ndim == 2


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(_valid_png())), flip=st.integers(0, 255))
def test_truncated_and_bitflipped_png(tmp_path, cut, flip):
    data = bytearray(_valid_png()[:cut])
    if data:
        data[len(data) // 2] ^= flip
    (tmp_path / "t.png").write_bytes(bytes(data))
    try:
        grey = read_grey(tmp_path / "t.png")
    except ImageError:
        return
    assert grey.dtype == np.uint8


@FUZZ
@given(
    image=arrays(
        DTYPES,
        st.one_of(
            st.tuples(st.integers(1, 40), st.integers(1, 40)),
            st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(1, 5)),
        ),
    ),
    detect=st.booleans(),
)
def test_odd_arrays_become_a_face_or_a_clear_error(image, detect):
    pre = Preprocessing(detect_face=detect, no_face="whole")
    try:
        face = pre.crop(to_grey_uint8(image))
    except ImageError:
        return
    assert face.shape == (60, 60) and face.dtype == np.uint8


@FUZZ
@given(h=st.sampled_from([1, 2, 10, 10000]), w=st.sampled_from([1, 3, 10, 7000]))
def test_extreme_sizes(h, w):
    image = np.full((h, w), 128, np.uint8)
    face = Preprocessing().crop(image)
    assert face.shape == (60, 60)
    x = Preprocessing().to_tensor(face[None])
    assert np.isfinite(x.numpy()).all()  # a flat image normalises to zeros, not NaN


def test_build_faceset_counts_every_fuzzed_file(tmp_path):
    rng = np.random.default_rng(1)
    records = []
    for i in range(40):
        p = tmp_path / f"{i}.png"
        p.write_bytes(rng.bytes(int(rng.integers(0, 300))) if i % 2 else _valid_png())
        records.append(Record(path=str(p), label="a" if i % 4 < 2 else "b", subject=str(i)))
    fs = build_faceset("fuzz", ["a", "b"], records, preprocessing=Preprocessing())
    assert fs.summary.kept + fs.summary.dropped == 40 and len(fs) == fs.summary.kept == 20
