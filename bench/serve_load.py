"""Load on a live `mffcnn serve`: 32 concurrent clients for 60 s posting 640×480 photos with one face each.

    python bench/serve_load.py [--clients 32] [--seconds 60] [--model PATH] [--out BENCHMARKS.md]

The photos are made from the bundled public-domain sample (the astronaut's portrait scaled into a 640×480
frame at 16 positions, JPEG), so anyone can rerun this. Starts `mffcnn serve` on a free port, warms it with
one request, then runs the clients (one asyncio process, httpx2; each client posts, waits for the answer,
posts the next) and measures: requests/s, latency p50 / p99, errors (any answer but 200), answers that miss
the face, the
server's RSS at the start, its peak, and at the end, and how many faces each network call took (batching of
concurrent requests, from /health). Then the same photos through `mffcnn predict` as a CLI, for its images/s.
The clients run on the same machine as the server and take CPU time from it. Writes the `serve_load` section
of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_process import REPO, ServerProcess  # noqa: E402

SAMPLE = REPO / "mffcnn" / "samples" / "astronaut.png"
FRAME = (480, 640)  # rows, columns
PHOTOS = 16
CLI_COPIES = 12  # the CLI classifies every photo this many times (192 files), for a steady images/s
JPEG_QUALITY = 90
RSS_EVERY = 1.0  # s between samples of the server's memory
TIMEOUT = 60.0


def make_photos(folder: Path, n: int = PHOTOS) -> list[Path]:
    """n 640×480 JPEGs, each with the astronaut's face (and nothing the detector takes for another) at a
    different place and size: the portrait scaled to 480–720 px and framed at random; a framing where the
    bundled model's detector does not find exactly one face in the JPEG is drawn again."""
    import cv2
    import numpy as np

    from mffcnn.data.images import decode_image, to_grey_uint8
    from mffcnn.predict import find_faces, load_model

    portrait = cv2.imread(str(SAMPLE))
    preprocessing = load_model().preprocessing
    rng = np.random.default_rng(0)
    paths = []
    while len(paths) < n:
        side = int(rng.integers(FRAME[0], 3 * FRAME[0] // 2 + 1))
        scaled = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
        canvas = np.full((side + FRAME[0], side + FRAME[1], 3), int(rng.integers(60, 200)), np.uint8)
        canvas[:side, :side] = scaled  # room on the right and below for frames that cut the portrait
        x, y = int(rng.integers(0, side // 3)), int(rng.integers(0, side // 4))
        frame = np.ascontiguousarray(canvas[y : y + FRAME[0], x : x + FRAME[1]])
        # checked as served: JPEG's losses can make or unmake a detection near the score threshold
        jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1]
        if len(find_faces(to_grey_uint8(decode_image(jpeg.tobytes())), preprocessing)[0]) != 1:
            continue
        paths.append(folder / f"photo_{len(paths):02d}.jpg")
        paths[-1].write_bytes(jpeg.tobytes())
    return paths


async def load(url: str, photos: list[bytes], *, clients: int, seconds: float, server: ServerProcess) -> dict:
    """Run the clients until the time is up; latencies, outcomes and the server's memory while it ran."""
    import httpx2

    latencies, errors, wrong, rss = [], [], [], []
    deadline = time.monotonic() + seconds
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(k: int, http) -> None:
        i = k
        while time.monotonic() < deadline:
            photo = photos[i % len(photos)]
            i += clients
            start = time.perf_counter()
            try:
                r = await http.post(url, content=photo, headers={"content-type": "image/jpeg"})
                if r.status_code != 200:
                    errors.append(time.perf_counter() - start)
                    continue
                latencies.append(time.perf_counter() - start)
                if r.json()["summary"]["faces"] != 1:
                    wrong.append(r.json()["summary"]["faces"])
            except httpx2.HTTPError:
                errors.append(time.perf_counter() - start)

    async def watch() -> None:
        while time.monotonic() < deadline:
            rss.append(server.rss_mb())
            await asyncio.sleep(RSS_EVERY)

    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(watch(), *(client(k, http) for k in range(clients)))
        elapsed = time.perf_counter() - started
    return {"latencies": sorted(latencies), "errors": len(errors), "wrong": len(wrong), "elapsed": elapsed, "rss": rss}


def cli_images_per_second(folder: Path, model: str | None) -> tuple[float, float, int]:
    """`mffcnn predict FOLDER` as a user runs it: images/s of its own timing (model loaded), images/s of the
    whole process (start-up included), and the number of images."""
    out = Path(tempfile.mkdtemp())
    command = [sys.executable, "-m", "mffcnn", "predict", str(folder), "-q", "-o", str(out), "-f", "json"]
    command += ["--model", model] if model else []
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    whole = time.perf_counter() - start
    summary = json.loads((out / "predictions.json").read_text())["summary"]
    return summary["images"] / summary["seconds"], summary["images"] / whole, summary["images"]


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--model", help="the model to serve (default: the bundled one)")
    ap.add_argument("--threads", type=int, help="mffcnn serve --threads (default: its own, all cores)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    import httpx2
    from markdown import write_section

    work = Path(tempfile.mkdtemp())
    paths = make_photos(work)
    photos = [p.read_bytes() for p in paths]
    serve_args = (["--model", args.model] if args.model else []) + (
        ["--threads", str(args.threads)] if args.threads else []
    )
    load_before = os.getloadavg()[0]
    with ServerProcess(serve_args) as server:
        httpx2.post(server.url + "/predict", content=photos[0], timeout=TIMEOUT)  # warm-up
        rss_start = server.rss_mb()
        before = httpx2.get(server.url + "/health").json()["batching"]
        cpu_server, cpu_client = server.cpu_seconds(), time.process_time()
        run = asyncio.run(
            load(server.url + "/predict", photos, clients=args.clients, seconds=args.seconds, server=server)
        )
        cpu_server, cpu_client = server.cpu_seconds() - cpu_server, time.process_time() - cpu_client
        health = httpx2.get(server.url + "/health").json()
        rss_end = server.rss_mb()
    load_after = os.getloadavg()[0]
    after = health["batching"]
    calls, faces = after["calls"] - before["calls"], after["faces"] - before["faces"]

    cli_folder = work / "cli"
    cli_folder.mkdir()
    for k in range(CLI_COPIES):
        for p in paths:
            (cli_folder / f"{k}_{p.name}").write_bytes(p.read_bytes())
    cli_rate, cli_whole, cli_images = cli_images_per_second(cli_folder, args.model)

    lat = run["latencies"]
    answered = len(lat)
    rate = answered / run["elapsed"]
    rows = [
        f"`mffcnn serve` ({health['backend']}, {health['workers']} workers; model "
        f"`{Path(args.model).name if args.model else 'bundled'}`) on a free port; {args.clients} clients in one "
        f"asyncio process on the same machine (httpx2), each posting one of {PHOTOS} 640×480 JPEGs with one face "
        f"(the sample portrait at {PHOTOS} positions and sizes) and waiting for the answer, for {args.seconds:.0f} s. "
        f"Load average {load_before:.1f} before, {load_after:.1f} after (other jobs on the machine: **upper "
        "bounds**).",
        "",
        "| | value |",
        "|---|---:|",
        f"| requests answered (200) | {answered:,} |",
        f"| errors (any other status, or no answer) | {run['errors']} |",
        f"| answers without exactly the one face | {run['wrong']} |",
        f"| requests/s | {rate:.1f} |",
        f"| latency p50 / p99 (ms) | {1e3 * percentile(lat, 0.5):.0f} / {1e3 * percentile(lat, 0.99):.0f} |",
        f"| faces per network call (mean / largest) | {faces / max(calls, 1):.2f} / {after['largest']} |",
        f"| server CPU time per request (ms, all threads) | {1e3 * cpu_server / max(answered, 1):.1f} |",
        f"| CPU used by the clients, the server, the rest of the machine (cores of {os.cpu_count()}) | "
        f"{cpu_client / run['elapsed']:.2f}, {cpu_server / run['elapsed']:.2f}, "
        f"{max(0.0, load_after - (cpu_client + cpu_server) / run['elapsed']):.1f} (load average less ours) |",
        f"| server RSS at start / peak / end (MB) | {rss_start:.0f} / {max(run['rss'] + [rss_end]):.0f} / "
        f"{rss_end:.0f} ({100 * (rss_end / rss_start - 1):+.1f} %) |",
        f"| `mffcnn predict` on the same photos ({cli_images} files), images/s | {cli_rate:.1f} "
        f"({cli_whole:.1f} with the process's start-up) |",
    ]
    write_section(args.out, "serve_load", f"mffcnn serve under load: {args.clients} clients", rows)


if __name__ == "__main__":
    main()
