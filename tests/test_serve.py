"""mffcnn serve through FastAPI's TestClient: every endpoint, every limit, the batching of concurrent requests."""

import asyncio
import io
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from mffcnn import predict as lib
from mffcnn.data.preprocess import Preprocessing
from mffcnn.predict.backends import Backend
from mffcnn.serve import Limits, create_app
from mffcnn.serve.batching import FaceBatcher
from mffcnn.serve.uploads import RAW_BODY_NAME

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from face_scenes import one_face  # noqa: E402
from serve_limits import png_of_zeros  # noqa: E402

SAMPLE = lib.SAMPLE_IMAGE
SMALL = Limits(max_body_bytes=2_000_000, max_pixels=1_000_000, max_files=4)  # the sample is 512×512 = 0.26 MP


@pytest.fixture(scope="module")
def model():
    return lib.load_model(threads=1)


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model, limits=SMALL, threads=1)) as c:
        yield c


@pytest.fixture(scope="module")
def sample() -> bytes:
    return SAMPLE.read_bytes()


def error(response, status: int, code: str) -> str:
    """The JSON error of a refused request: its status and code; returns the detail."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and isinstance(body["detail"], str) and "Traceback" not in body["detail"]
    return body["detail"]


def test_predict_answers_with_the_schema_of_mffcnn_predict(client, model, sample):
    got = client.post("/predict", files={"files": ("astronaut.png", sample, "image/png")})
    assert got.status_code == 200
    want = lib.predict(SAMPLE, model=model).to_dict()
    body = got.json()
    assert body.keys() == want.keys() and body["summary"].keys() == want["summary"].keys()
    assert body["class_names"] == want["class_names"]
    (result,) = body["results"]
    assert result.keys() == want["results"][0].keys()
    assert result["file"] == "astronaut.png" and result["status"] == "ok"
    assert [f["box"] for f in result["faces"]] == [f["box"] for f in want["results"][0]["faces"]]
    assert result["faces"][0]["label"] == want["results"][0]["faces"][0]["label"] == "happy"
    assert result["faces"][0]["probabilities"] == pytest.approx(want["results"][0]["faces"][0]["probabilities"])
    assert body["model"]["path"] == "default.onnx"  # not the server's own file paths
    assert body["model"]["flip"] is want["model"]["flip"] is True  # both average each face with its mirror
    assert client.get("/model").json()["flip"] is True


def test_no_flip_serves_one_network_run_per_face(model, sample):
    with TestClient(create_app(model, limits=SMALL, threads=1, flip=False)) as c:
        body = c.post("/predict", files={"files": ("astronaut.png", sample, "image/png")}).json()
        card = c.get("/model").json()
    want = lib.predict(SAMPLE, model=model, flip=False).to_dict()
    assert body["model"]["flip"] is False and card["flip"] is False
    got, plain = body["results"][0]["faces"][0], want["results"][0]["faces"][0]
    assert got["probabilities"] == pytest.approx(plain["probabilities"])


def test_raw_body_and_several_files_with_a_status_each(client, sample):
    raw = client.post("/predict", content=sample, headers={"content-type": "image/png"}).json()
    assert raw["results"][0]["file"] == RAW_BODY_NAME and raw["summary"]["faces"] == 1
    wall = cv2.imencode(".png", np.full((100, 150), 128, np.uint8))[1].tobytes()
    files = [("files", ("a.png", sample)), ("files", ("wall.png", wall)), ("other", ("notes.txt", b"not a photo"))]
    body = client.post("/predict", files=files).json()
    assert [(r["file"], r["status"]) for r in body["results"]] == [
        ("a.png", "ok"),
        ("wall.png", "no_face"),
        ("notes.txt", "unreadable"),
    ]
    assert "not an image" in body["results"][2]["error"]
    assert body["summary"] | {"seconds": 0} == {
        **body["summary"],
        "files": 3,
        "images": 2,
        "faces": 1,
        "images_without_faces": 1,
        "unreadable": 1,
        "seconds": 0,
    }


def test_options_detect_and_min_face(client, sample):
    crop = cv2.imencode(".png", np.full((60, 60), 100, np.uint8))[1].tobytes()
    whole = client.post("/predict?detect=false", content=crop).json()["results"][0]
    assert whole["status"] == "ok" and whole["faces"][0]["box"] == [0, 0, 60, 60]
    small = cv2.imencode(".png", one_face(640, 480, 32, at=(200, 300), seed=6).grey)[1].tobytes()
    assert client.post("/predict", content=small).json()["summary"]["faces"] == 0  # 32 px: under the default 0.1
    assert client.post("/predict?min_face=0.05", content=small).json()["summary"]["faces"] == 1
    assert "at least 0.02" in error(client.post("/predict?min_face=0.001", content=sample), 422, "invalid_parameter")
    assert "min_face" in error(client.post("/predict?min_face=2", content=sample), 422, "invalid_parameter")
    assert "min_face" in error(client.post("/predict?min_face=big", content=sample), 422, "invalid_parameter")


def test_the_detector_is_chosen_at_start(model):
    """BlazeFace by default; `mffcnn serve --detector haar` the paper's cascade, which misses this wide canvas's face."""
    wide = cv2.imencode(".png", one_face(1024, 512, 98, at=(700, 260)).grey)[1].tobytes()
    for detector, faces in ((None, 1), ("haar", 0)):
        with TestClient(create_app(model, limits=SMALL, threads=1, detector=detector)) as c:
            assert c.post("/predict", content=wide).json()["summary"]["faces"] == faces


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {},  # an empty request
        {"content": b""},
        {"data": {"note": "hello"}, "files": {"x": ("", b"")}},  # a form sent without choosing a file
    ],
)
def test_no_file_is_422(client, request_kwargs):
    assert "no image" in error(client.post("/predict", **request_kwargs), 422, "no_file")


def test_not_an_image_is_415(client, sample):
    rng = np.random.default_rng(0)
    assert "not an image" in error(client.post("/predict", content=rng.bytes(5000)), 415, "not_an_image")
    # A PNG cut short: its header is readable, its pixels are not.
    detail = error(client.post("/predict", content=sample[: len(sample) // 3]), 415, "not_an_image")
    assert "not a readable image" in detail
    two = [("f", ("a.bin", rng.bytes(100))), ("f", ("b.txt", b"text"))]
    assert "and 1 more unusable" in error(client.post("/predict", files=two), 415, "not_an_image")


def test_body_over_the_limit_is_413_with_or_without_content_length(client):
    big = b"\0" * (SMALL.max_body_bytes + 1)
    assert "2 MB" in error(client.post("/predict", content=big), 413, "body_too_large")

    def chunks():  # no Content-Length: the server counts as it reads
        for _ in range(3):
            yield b"\0" * 1_000_000

    assert error(client.post("/predict", content=chunks()), 413, "body_too_large")
    files = {"files": ("big.png", big)}
    assert error(client.post("/predict", files=files), 413, "body_too_large")


def test_pixels_over_the_limit_are_413_before_decoding(client, sample):
    bomb = png_of_zeros(30_000, 30_000, rows=1)  # the header says 900 MP; the file is a few hundred bytes
    assert len(bomb) < 1000
    detail = error(client.post("/predict", content=bomb), 413, "too_many_pixels")
    assert "900.0 megapixels" in detail and "at most 1" in detail
    # The limit is per request: four 0.26 MP photos together are over 1 MP.
    jpeg = cv2.imencode(".jpg", cv2.imread(str(SAMPLE)))[1].tobytes()
    four = [("files", (f"{i}.jpg", jpeg)) for i in range(4)]
    assert error(client.post("/predict", files=four), 413, "too_many_pixels")
    five = [("files", (f"{i}.jpg", jpeg)) for i in range(5)]
    assert "Too many files" in error(client.post("/predict", files=five), 422, "bad_multipart")


def test_health_model_and_docs(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["limits"]["max_megapixels"] == 1.0
    assert {"calls", "faces", "mean_faces_per_call"} <= health["batching"].keys()
    card = client.get("/model").json()
    assert card["class_names"] == ["anger", "disgust", "fear", "happy", "neutral", "sadness", "surprise"]
    assert {d["dataset"] for d in card["trained_on"]} == {"ferplus", "affectnet", "ckplus48", "jaffe", "sfew"}
    assert all("research" in d["licence"] for d in card["trained_on"]) and "research" in card["licence"]
    schema = client.get("/openapi.json").json()
    assert "multipart/form-data" in schema["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert {"413", "415", "422"} <= schema["paths"]["/predict"]["post"]["responses"].keys()
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    assert error(client.get("/nowhere"), 404, "not_found")
    assert error(client.get("/predict"), 405, "method_not_allowed")


def test_the_page_and_its_assets_load_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        text = client.get(asset).text
        assert text and "http://" not in text and "https://" not in text, asset
    assert "http" not in page.text.replace('"/', "")  # every link and script is the server's own
    assert client.get("/sample.png").content == SAMPLE.read_bytes()


def backend_running(model, run) -> Backend:
    """The bundled model's classes with another network: one that fails, or one that takes its time."""
    return Backend(
        class_names=model.class_names,
        preprocessing=Preprocessing(),
        info={},
        backend="pytorch",
        path=Path("other.safetensors"),
        run=run,
    )


def test_a_failing_model_is_a_json_500_not_a_traceback(model, sample):
    def broken(_faces):
        raise RuntimeError("out of memory")

    with TestClient(create_app(backend_running(model, broken), threads=1), raise_server_exceptions=False) as c:
        detail = error(c.post("/predict", content=sample), 500, "internal_error")
        assert "RuntimeError" in detail and "out of memory" not in detail
        assert c.get("/health").status_code == 200  # and the server goes on


def test_requests_beyond_max_concurrent_are_503_at_once(model, sample):
    def slow(faces):
        time.sleep(1.0)
        return np.full((len(faces), len(model.class_names)), 1 / len(model.class_names), np.float32)

    app = create_app(backend_running(model, slow), limits=Limits(max_concurrent=1), threads=1)
    with TestClient(app) as c, ThreadPoolExecutor(2) as pool:
        first = pool.submit(c.post, "/predict", content=sample)
        time.sleep(0.5)  # the first is in the network now
        start = time.perf_counter()
        second = c.post("/predict", content=sample)
        assert time.perf_counter() - start < 0.5 and second.headers["retry-after"] == "1"
        assert "1 requests already" in error(second, 503, "busy")
        assert c.get("/health").status_code == 200  # only predictions are counted
        assert first.result().status_code == 200


# --- The batcher: faces of concurrent requests in one network call -------------------------------


def faces(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.uint8)[:, None, None] * np.ones((1, 2, 2), np.uint8)


def test_concurrent_requests_share_network_calls():
    calls = []

    def probabilities(batch):
        calls.append(len(batch))
        return batch[:, 0, :1].astype(np.float32)  # each face's own number: answers must not be mixed up

    async def main():
        batcher = FaceBatcher(probabilities, max_batch=8)
        sizes = [1, 3, 2, 4, 0, 5]
        answers = await asyncio.gather(*(batcher.classify(faces(n) + 10 * i) for i, n in enumerate(sizes)))
        batcher.close()
        return sizes, answers, batcher.stats

    sizes, answers, stats = asyncio.run(main())
    for i, (n, answer) in enumerate(zip(sizes, answers)):
        assert answer[:, 0].tolist() == (np.arange(n) + 10 * i).tolist()
    # All six waited together: split only where a call would pass max_batch (8 faces).
    assert calls == [6, 4, 5] and stats.calls == 3 and stats.largest == 6 and stats.requests == 6


def test_a_failing_batch_fails_its_requests_only():
    def probabilities(batch):
        if (batch == 99).any():
            raise ValueError("bad face")
        return np.zeros((len(batch), 1), np.float32)

    async def main():
        batcher = FaceBatcher(probabilities, max_batch=2)
        results = await asyncio.gather(
            batcher.classify(faces(2) * 0 + 99), batcher.classify(faces(2)), return_exceptions=True
        )
        batcher.close()
        return results

    bad, good = asyncio.run(main())
    assert isinstance(bad, ValueError) and good.shape == (2, 1)


def test_client_of_a_big_upload_gets_413_while_a_small_one_still_works(model, sample):
    """A multipart part is spooled to disk past 1 MB: limits hold there too, and the server stays usable."""
    limits = Limits(max_body_bytes=10_000_000)
    with TestClient(create_app(model, limits=limits, threads=1)) as c:
        big = io.BytesIO(b"\0" * 11_000_000)
        assert error(c.post("/predict", files={"f": ("big.png", big)}), 413, "body_too_large")
        assert c.post("/predict", content=sample).json()["summary"]["faces"] == 1


def test_faces_found_in_several_threads_at_once_are_each_images_own(model):
    """The server detects in a pool of threads: each must see its own image (OpenCV's cascade is not shared)."""
    portrait = cv2.imread(str(SAMPLE), cv2.IMREAD_GRAYSCALE)
    greys = [cv2.resize(portrait, (side, side)) for side in range(300, 720, 60)] * 4
    alone = [lib.find_faces(g, model.preprocessing)[0] for g in greys]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda g: lib.find_faces(g, model.preprocessing)[0], greys))
    assert together == alone
