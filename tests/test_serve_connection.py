"""mffcnn serve before a request reaches the app: heads too long or not HTTP (JSON errors, never uvicorn's
text/plain), heads that arrive too slowly (408 within --body-timeout), connections waiting for a head holding
--max-concurrent places (503 beyond), and the heap given back when idle. A real server process on a free port
(loopback), over raw sockets; the pure parts in-process."""

import asyncio
import json
import socket
import sys
import time
from pathlib import Path

import pytest

from mffcnn.serve import memory
from mffcnn.serve.connection import HEAD_BYTES, Places, head_error, json_error
from mffcnn.serve.limits import RequestError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from serve_process import ServerProcess  # noqa: E402

httpx2 = pytest.importorskip("httpx2")
TIMEOUT = 1.0  # the server's --body-timeout
PLACES = 3  # its --max-concurrent
SLACK = 5.0  # s a loaded 2-core machine may add to an answer that is due at once


@pytest.fixture(scope="module")
def server():
    args = ["--threads", "1", "--body-timeout", str(TIMEOUT), "--max-concurrent", str(PLACES)]
    with ServerProcess(args) as s:
        yield s


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT + 2 * SLACK)


def read_all(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
    return answer


def json_answer(answer: bytes, status: int, code: str) -> dict:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"content-type: application/json" in head.lower(), head
    doc = json.loads(body)
    assert doc["error"] == code and isinstance(doc["detail"], str), doc
    return doc


def send(server, data: bytes, *, pieces: int = 1) -> bytes:
    with connect(server) as s:
        step = -(-len(data) // pieces)
        for i in range(0, len(data), step):
            s.sendall(data[i : i + step])
            if pieces > 1:
                time.sleep(0.05)  # separate reads on the server: h11's own check of an incomplete head
        return read_all(s)


@pytest.mark.parametrize("pieces", [1, 8])
def test_heads_too_long_are_json_414_and_431_whole_or_in_pieces(server, pieces):
    long_line = b"GET /" + b"a" * (HEAD_BYTES + 100) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    doc = json_answer(send(server, long_line, pieces=pieces), 414, "request_line_too_long")
    assert f"{HEAD_BYTES:,} bytes" in doc["detail"]
    long_headers = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (HEAD_BYTES + 100) + b"\r\n\r\n"
    json_answer(send(server, long_headers, pieces=pieces), 431, "headers_too_large")
    many_headers = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1234567890\r\n" * 2000 + b"\r\n"
    json_answer(send(server, many_headers, pieces=pieces), 431, "headers_too_large")


def test_a_head_just_under_the_limit_is_served(server):
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
    pad = HEAD_BYTES - len(head) - 4
    answer = send(server, head + b"p" * pad + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"status":"ok"' in answer


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    ],
)
def test_requests_that_are_not_http_are_json_400(server, data):
    json_answer(send(server, data), 400, "bad_request")


def test_a_slow_head_is_408_within_the_body_timeout(server):
    start = time.monotonic()
    with connect(server) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(0.2)
        answer = b""
        while not answer and time.monotonic() - start < TIMEOUT + SLACK:
            try:  # one more header byte every 0.2 s: each arrival would restart a timer counted per read
                s.sendall(b"X")
                answer = s.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
        s.settimeout(SLACK)
        answer += read_all(s)
    took = time.monotonic() - start
    json_answer(answer, 408, "headers_too_slow")
    assert TIMEOUT - 0.05 <= took < TIMEOUT + SLACK


def test_a_silent_connection_and_an_idle_kept_alive_one_are_closed(server):
    start = time.monotonic()
    with connect(server) as s:
        assert read_all(s) == b""  # nothing sent: closed without an answer
    assert TIMEOUT - 0.05 <= time.monotonic() - start < TIMEOUT + SLACK
    with connect(server) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive after its answer
        first = s.recv(65536)
        while b"}" not in first:  # the whole JSON answer of /health
            first += s.recv(65536)
        s.sendall(b"GET /health HTTP/1.1\r\nHo")  # the next request's head, never finished
        rest = read_all(s)
    assert first.startswith(b"HTTP/1.1 200 ")
    json_answer(rest, 408, "headers_too_slow")


def test_connections_waiting_for_a_head_hold_max_concurrent_places(server):
    waiting = [connect(server) for _ in range(PLACES)]
    for s in waiting:
        s.sendall(b"POST /predict HTTP/1.1\r\n")
    time.sleep(0.2)  # accepted by the server
    try:
        json_answer(send(server, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), 503, "busy")
        for s in waiting:
            json_answer(read_all(s), 408, "headers_too_slow")
    finally:
        for s in waiting:
            s.close()
    time.sleep(0.2)
    assert httpx2.get(server.url + "/health", timeout=SLACK).status_code == 200  # the places are free again


def test_upgrade_requests_are_plain_http_and_give_their_place_back(server):
    upgrade = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n"
    for _ in range(PLACES + 1):  # more than the places: none is kept
        assert send(server, upgrade).startswith(b"HTTP/1.1 200 ")


def test_the_heap_is_trimmed_once_the_server_is_idle(server):
    before = httpx2.get(server.url + "/health", timeout=SLACK).json()["heap_trims"]
    for _ in range(3):
        with connect(server) as s:  # a body cut off by its client
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
    time.sleep(memory.DELAY + memory.INTERVAL + 0.5)
    assert httpx2.get(server.url + "/health", timeout=SLACK).json()["heap_trims"] > before
    assert "Traceback" not in server.output()


def test_head_errors_and_raw_json_answers():
    assert head_error(b"GET /" + b"a" * 40, 20).status == 414
    assert head_error(b"GET / HTTP/1.1\r\nX: " + b"a" * 40, 20).status == 431
    assert head_error(b"GET / HTTP/1.1\r\n", 20).status == 400
    raw = json_error(RequestError(503, "busy", "full"), extra=(("retry-after", "1"),))
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 503 Service Unavailable"
    assert b"retry-after: 1" in head and f"content-length: {len(body)}".encode() in head
    assert json.loads(body) == {"error": "busy", "detail": "full"}


def test_places_and_the_trimmer():
    async def run():
        trims = []
        trimmer = memory.HeapTrimmer()
        trimmer.trim = trims.append  # counted, not run
        places = Places(2, trimmer)
        assert places.take() and places.take() and not places.take()
        places.give_back()
        await asyncio.sleep(memory.DELAY + 0.1)
        assert trims == []  # one still in progress
        places.give_back()
        assert places.take()  # busy again before the delay: no trim
        await asyncio.sleep(memory.DELAY + 0.1)
        assert trims == []
        places.give_back()
        await asyncio.sleep(memory.DELAY + 0.1)
        assert trims == [0] and trimmer.trims == 1
        assert places.take()
        places.give_back()  # idle again at once: not before INTERVAL has passed since the last trim
        await asyncio.sleep(memory.DELAY + 0.1)
        assert trims == [0]
        await asyncio.sleep(memory.INTERVAL)
        assert trims == [0, 0]

    asyncio.run(run())
