"""Every limit of `mffcnn serve` tried against a live server: status, time to answer, the server's memory.

    python bench/serve_limits.py [--out BENCHMARKS.md]

Starts `mffcnn serve` (default limits: 20 MB bodies, 40 megapixels per request) on a free port and sends:
heads that are too long (a 20 kB request line, a 20 kB and a 1 MB header) or not HTTP (each answer must be
JSON, like every error of the server), a 30,000 × 30,000 PNG of 0.9 MB (900 megapixels once decoded: a decompression bomb), a 100 MB body (with a
Content-Length, and chunked without one), random bytes, an empty request, 1,000 photos cut at random points
(the body complete, the image truncated), 1,000 requests whose body is cut off by the client (it announces a
length, sends part of it and hangs up), and 65 clients at once that announce a body and never send it (one
more than the predictions the server takes at once), then 100 clients at once that send a request's head a
byte a second and never end it (slowloris: each must be closed within the body timeout, and they hold the
same places; a photo sent meanwhile is 503). After each of the last three, one good photo, to see that the
server still answers. The server's RSS is read before and after the 1,000 cut-off uploads (after them: within
10 % of its start), and every error answer is checked to be JSON. And the same PNG through `mffcnn predict`, with its pixel limit and without.
Writes the `serve_limits` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_process import REPO, ServerProcess  # noqa: E402

SAMPLE = REPO / "mffcnn" / "samples" / "astronaut.png"
BOMB_SIDE = 30_000
BIG_BODY = 100_000_000
TRUNCATED = 1_000
CHUNK = 1 << 20
MB = 1_000_000
TIMEOUT = 60.0
PROMPT = 0.05  # s: /health answering within this, the server has nothing left to do
SLOW_CLIENTS = 65  # one more than the places for predictions in progress (mffcnn serve --max-concurrent)
SLOW_HEADS = 100  # clients that send their heads a byte at a time: more than those places
SLOW_BYTE_S = 1.0  # s between two bytes of a slow head
WITHIN = 0.10  # the server's RSS after the 1,000 cut-off uploads: within this fraction of its start


def png_of_zeros(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A grey PNG of black pixels: tiny on disk, width × height bytes once decoded. rows: write only the first
    rows (a PNG whose header tells its full size, for tests that need the header only)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compress = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte 0, then the row
    idat = b"".join(compress.compress(row) for _ in range(height if rows is None else rows)) + compress.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def timed_post(client, url: str, **kwargs) -> tuple[int, float, str]:
    """(status, ms, error code) of one POST; status 0 when the connection broke before an answer."""
    import httpx2

    start = time.perf_counter()
    try:
        r = client.post(url, **kwargs)
        json_answer = r.headers.get("content-type", "").startswith("application/json")
        code = r.json().get("error", "") if json_answer else "" if r.status_code < 400 else "NOT JSON"
        return r.status_code, 1e3 * (time.perf_counter() - start), code
    except httpx2.TransportError as e:
        return 0, 1e3 * (time.perf_counter() - start), type(e).__name__


def cut_off_body(port: int, body: bytes, keep: int) -> None:
    """Announce len(body) bytes, send `keep` of them, hang up: a client that dies mid-upload."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        head = f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: {len(body)}\r\n\r\n"
        s.sendall(head.encode() + body[:keep])


def announce(port: int, length: int, *, wait: float) -> tuple[int, float, str]:
    """Send a request's head that announces `length` bytes of body, send none, read the answer:
    (status, ms, error code); status 0 when the server closed without one."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
        answer = b""
        while not answer.endswith(b"}"):  # every answer of /predict is one JSON object
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    code = json.loads(answer.split(b"\r\n\r\n", 1)[1]).get("error", "") if b"\r\n\r\n{" in answer else ""
    return status, 1e3 * (time.perf_counter() - start), code


def raw_exchange(port: int, data: bytes) -> tuple[int, float, str]:
    """Send `data` as it is, read until the server closes: (status, ms, error code; "NOT JSON" when an error
    answer is not JSON)."""
    start = time.perf_counter()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        try:
            s.sendall(data)  # the server may answer and close before all of it is sent
            while chunk := s.recv(65536):
                answer += chunk
        except OSError:
            pass
    status, code = _parsed(answer)
    return status, 1e3 * (time.perf_counter() - start), code


def _parsed(answer: bytes) -> tuple[int, str]:
    """(status, error code) of a raw HTTP answer: status 0 when there is none; code "NOT JSON" for an error
    answer whose body is not a JSON error."""
    if not answer.startswith(b"HTTP/"):
        return 0, ""
    status = int(answer.split(b" ", 2)[1])
    head, _, body = answer.partition(b"\r\n\r\n")
    try:
        return status, json.loads(body).get("error", "") if b"application/json" in head.lower() else "NOT JSON"
    except ValueError:
        return status, "NOT JSON"


def slow_head(port: int, wait: float) -> tuple[int, float, str]:
    """A client that sends a request's head one byte a second and never ends it (slowloris): (status, ms until the
    server closed the connection, error code)."""
    start = time.perf_counter()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(SLOW_BYTE_S)
        while time.perf_counter() - start < wait:
            try:
                s.sendall(b"X")
                chunk = s.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # reset by the server after it closed
                break
            if not chunk:
                break
            answer += chunk
    status, code = _parsed(answer)
    return status, 1e3 * (time.perf_counter() - start), code


def slow_heads(server, n: int, body_seconds: float, client) -> tuple[list, tuple, int, int]:
    """n slow-head clients at once; meanwhile (half-way through the body timeout) the server's open files and
    one good photo's answer. Returns the clients' results, the photo's, the open files then and after."""
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(slow_head, server.port, body_seconds + TIMEOUT) for _ in range(n)]
        time.sleep(body_seconds / 2)
        during = server.open_files()
        photo = timed_post(client, "/predict", content=SAMPLE.read_bytes())
        results = [f.result() for f in futures]
    time.sleep(1.5)  # the refused connections' linger (mffcnn.serve.connection.LINGER)
    return results, photo, during, server.open_files()


def slow_clients(port: int, n: int, body_seconds: float) -> list[tuple[int, float, str]]:
    """n clients at once, each announcing a 1 MB body and sending none."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: announce(port, MB, wait=body_seconds + TIMEOUT), range(n)))


def predict_cost(path: Path, *extra: str) -> tuple[float, float, str]:
    """`mffcnn predict PATH` as a user runs it: wall seconds, peak memory (MB) and its summary line."""
    command = [sys.executable, "-m", "mffcnn", "predict", str(path), "-q", "-o", tempfile.mkdtemp(), *extra]
    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    _, _, usage = os.wait4(child.pid, 0)  # this child's own peak RSS, in kB on Linux
    seconds = time.perf_counter() - start
    summary = child.stdout.read().decode().splitlines()[0]
    child.stdout.close()
    return seconds, usage.ru_maxrss / 1024, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    import cv2
    import httpx2
    import numpy as np
    from markdown import write_section

    rng = np.random.default_rng(0)
    bomb = png_of_zeros(BOMB_SIDE, BOMB_SIDE)
    sample = SAMPLE.read_bytes()
    jpeg = cv2.imencode(".jpg", cv2.imread(str(SAMPLE)))[1].tobytes()
    rows = []
    bomb_file = Path(tempfile.mkdtemp()) / "bomb.png"
    bomb_file.write_bytes(bomb)
    predict_rows = [
        f"| `mffcnn predict bomb.png{' '.join(('', *extra))}`{label} | {summary} | {seconds:.1f} | {peak:,.0f} |"
        for label, extra in (("", ()), (" (no limit, as before)", ("--max-megapixels", "1000")))
        for seconds, peak, summary in [predict_cost(bomb_file, *extra)]
    ]
    print(*predict_rows, sep="\n", flush=True)
    with ServerProcess() as server, httpx2.Client(base_url=server.url, timeout=TIMEOUT) as client:
        url = "/predict"
        timed_post(client, url, content=sample)  # warm: the first request pays for lazy start-up
        health = client.get("/health").json()
        rss_start = server.rss_mb()

        def row(what: str, results: list[tuple[int, float, str]]) -> None:
            statuses = Counter(f"{s} {c}".strip() for s, _, c in results)
            ms = sorted(m for _, m, _ in results)
            median, worst = ms[len(ms) // 2], ms[-1]
            counts = ", ".join(f"{k} × {n}" if len(results) > 1 else k for k, n in statuses.most_common())
            if len(statuses) > 1:  # each status's own median time
                counts += (
                    " ("
                    + ", ".join(
                        f"{k.split()[0]}: {sorted(m for s, m, c in results if f'{s} {c}'.strip() == k)[n // 2]:,.0f} ms"
                        for k, n in statuses.most_common()
                    )
                    + ")"
                )
            rows.append(f"| {what} | {counts} | {median:.1f} | {worst:.1f} | {server.rss_mb():.0f} |")
            print(rows[-1], flush=True)

        for what, data in (
            ("a 20 kB request line, in one piece", b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("a 20 kB header, in one piece", b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20_000 + b"\r\n\r\n"),
            ("a 1 MB header, sent as it comes", b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * MB + b"\r\n\r\n"),
            ("not HTTP (a line of garbage)", b"GARBAGE\r\n\r\n"),
            ("a header line without a colon", b"GET / HTTP/1.1\r\nno colon\r\n\r\n"),
        ):
            row(what, [raw_exchange(server.port, data) for _ in range(5)])
        row(
            f"{BOMB_SIDE:,} × {BOMB_SIDE:,} PNG ({len(bomb) / 1e6:.2f} MB, {BOMB_SIDE**2 / 1e6:,.0f} MP decoded)",
            [timed_post(client, url, content=bomb, headers={"content-type": "image/png"}) for _ in range(5)],
        )
        row(
            "the same PNG as a multipart file",
            [timed_post(client, url, files={"files": ("bomb.png", bomb)}) for _ in range(5)],
        )
        big = rng.bytes(BIG_BODY)
        row(
            f"{BIG_BODY / 1e6:.0f} MB body with a Content-Length (httpx2 sends it all before it reads the answer)",
            [timed_post(client, url, content=big)],
        )
        row(
            f"the same headers, the client reading the answer before it sends the {BIG_BODY / 1e6:.0f} MB",
            [announce(server.port, BIG_BODY, wait=TIMEOUT) for _ in range(5)],
        )
        chunks = (big[i : i + CHUNK] for i in range(0, BIG_BODY, CHUNK))
        row(f"{BIG_BODY / 1e6:.0f} MB body, chunked (no Content-Length)", [timed_post(client, url, content=chunks)])
        row("random bytes (100 kB)", [timed_post(client, url, content=rng.bytes(100_000)) for _ in range(20)])
        row("an empty request", [timed_post(client, url) for _ in range(20)])
        cuts = rng.integers(1, len(jpeg), TRUNCATED)
        row(
            f"{TRUNCATED:,} photos cut at random points (body complete)",
            [timed_post(client, url, content=jpeg[:k]) for k in cuts],
        )
        rss_before_cut = server.rss_mb()
        t = time.perf_counter()
        for k in rng.integers(0, len(sample), TRUNCATED):
            cut_off_body(server.port, sample, int(k))
        cut_ms = 1e3 * (time.perf_counter() - t) / TRUNCATED
        t = time.perf_counter()
        while httpx2.get(server.url + "/health").elapsed.total_seconds() > PROMPT:  # the server works through them
            time.sleep(PROMPT)
        busy_s = time.perf_counter() - t
        time.sleep(2)  # idle: the server gives the freed heap back (mffcnn.serve.memory)
        rss_after_cut = server.rss_mb()
        rows.append(
            f"| {TRUNCATED:,} bodies cut off by the client (it hangs up mid-upload) | no one left to answer; sent "
            f"at {cut_ms:.1f} ms per connection, the server busy with them for {busy_s:.1f} s "
            f"more | | | {rss_after_cut:.0f} |"
        )
        row("then a good photo", [timed_post(client, url, content=sample)])
        row(
            f"{SLOW_CLIENTS} clients at once that announce a body and send none",
            slow_clients(server.port, SLOW_CLIENTS, health["limits"]["body_seconds"]),
        )
        row("then a good photo", [timed_post(client, url, content=sample)])
        heads, during_photo, files_during, files_after = slow_heads(
            server, SLOW_HEADS, health["limits"]["body_seconds"], client
        )
        row(f"{SLOW_HEADS} clients at once that send their heads a byte a second, never ending them", heads)
        row("a good photo meanwhile (the places are taken)", [during_photo])
        row("then a good photo", [timed_post(client, url, content=sample)])
        health = client.get("/health").json()
        rss_end = server.rss_mb()
        log = server.output()
    tracebacks = log.count("Traceback")
    not_json = sum(r.count("NOT JSON") for r in rows)
    slowest = max(m for _, m, _ in heads) / 1e3
    write_section(
        args.out,
        "serve_limits",
        "mffcnn serve: every limit against a live server",
        [
            "`mffcnn serve` with its default limits (20 MB body, 40 megapixels per request, 64 predictions at "
            "once, 30 s for a body to arrive), one request at a time over HTTP (httpx2) unless the row says "
            "otherwise. *ms*: from sending to the whole answer, median and worst. *RSS*: the "
            "server's resident memory after the row.",
            "",
            "| request | status × count | ms (median) | ms (worst) | server RSS (MB) |",
            "|---|---|---:|---:|---:|",
            *rows,
            "",
            f"The same {BOMB_SIDE:,} × {BOMB_SIDE:,} PNG through `mffcnn predict` (whole process: start-up included):",
            "",
            "| command | its summary (its own time) | s, whole process | peak memory (MB) |",
            "|---|---|---:|---:|",
            *predict_rows,
            "",
            f"Server RSS: {rss_start:.0f} MB after the first photo; {rss_before_cut:.0f} MB before the "
            f"{TRUNCATED:,} cut-off uploads and {rss_after_cut:.0f} MB after them "
            f"({100 * (rss_after_cut / rss_start - 1):+.1f} % of the start: "
            f"{'within' if abs(rss_after_cut / rss_start - 1) <= WITHIN else 'NOT within'} "
            f"{100 * WITHIN:.0f} %); {rss_end:.0f} MB at the end ({100 * (rss_end / rss_start - 1):+.1f} %). "
            f"Heap trims (malloc_trim when idle): {health['heap_trims']}. "
            f"The {SLOW_HEADS} slow heads: the last closed after {slowest:.1f} s (body timeout "
            f"{health['limits']['body_seconds']:g} s); the server had {files_during} open files (sockets included) "
            f"while they waited, {health['limits']['max_concurrent']} of them holding its places, and "
            f"{files_after} after. Error answers that were not JSON: {not_json}. "
            f"Tracebacks in the server's log: {tracebacks}. "
            f"Requests the network answered: {health['batching']['requests']}.",
        ],
    )


if __name__ == "__main__":
    main()
