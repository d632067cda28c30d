"""A real `mffcnn serve` process on a free port, over HTTP and raw sockets, and its page in a real Chromium."""

import socket
import sys
import time
from pathlib import Path

import pytest

from mffcnn import predict as lib
from mffcnn.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from serve_browser import check_page, find_chromium  # noqa: E402
from serve_process import ServerProcess, free_port  # noqa: E402

httpx2 = pytest.importorskip("httpx2")


@pytest.fixture(scope="module")
def server():
    with ServerProcess(["--threads", "1", "--max-body-mb", "2", "--body-timeout", "1"]) as s:
        yield s


def raw_request(port: int, head: str) -> bytes:
    """Send a request's head as it is (no body), and read the whole answer (its Content-Length)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_served_over_http(server):
    health = httpx2.get(server.url + "/health", timeout=20).json()
    assert health["status"] == "ok" and health["limits"]["max_body_mb"] == 2
    photo = lib.SAMPLE_IMAGE.read_bytes()
    with httpx2.Client(base_url=server.url, timeout=30) as client:
        answer = client.post("/predict", files={"files": ("astronaut.png", photo, "image/png")}).json()
        assert answer["results"][0]["faces"][0]["label"] == "happy"
        assert client.get("/").headers["content-type"].startswith("text/html")
        assert "swagger" in client.get("/docs").text.lower()


def test_a_huge_body_is_refused_from_its_content_length_before_it_is_sent(server):
    answer = raw_request(
        server.port, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000000\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 413") and b"body_too_large" in answer


def test_a_body_that_does_not_arrive_is_408_after_the_timeout(server):
    start = time.perf_counter()
    answer = raw_request(server.port, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 408") and b"body_too_slow" in answer
    assert 1.0 <= time.perf_counter() - start < 10


def test_clients_that_hang_up_mid_body_leave_the_server_well(server):
    photo = lib.SAMPLE_IMAGE.read_bytes()
    for keep in (0, 10, 1000, 100_000):
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
            s.sendall(f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: {len(photo)}\r\n\r\n".encode())
            s.sendall(photo[:keep])
    answer = httpx2.post(server.url + "/predict", content=photo, timeout=30)
    assert answer.status_code == 200 and answer.json()["summary"]["faces"] == 1
    assert "Traceback" not in server.output()


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert capsys.readouterr().err.strip() == "mffcnn: error: --port must be between 1 and 65535"
    assert main(["serve", "--model", str(tmp_path / "nope.onnx"), "--port", str(free_port())]) == 2
    assert "does not exist" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1]), "--threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "mffcnn: error: cannot listen on 127.0.0.1:" in err and "Traceback" not in err


@pytest.mark.skipif(
    find_chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium chromium-driver)"
)
def test_the_page_in_a_real_browser_shows_a_box_and_a_label(server, tmp_path):
    check = check_page(server.url + "/", lib.SAMPLE_IMAGE, screenshot=tmp_path / "page.png")
    assert check.boxes == 1 and check.labels and check.labels[0].startswith("happy")
    assert check.bars == 7 and check.problems == []
    assert (tmp_path / "page.png").stat().st_size > 10_000
