"""The serve page's camera mode in a real headless Chromium: steady labels and the live timeline (issue 18).

    python bench/serve_camera.py [--screenshot docs/serve_timeline.png] [--seconds 9] [--out BENCHMARKS.md]

Makes the `change` clip of mffcnn/data/clips.py 10 s long (a drawn face, neutral, surprise from 5 s on) as a
.y4m file and gives it to Chromium as its camera (--use-fake-device-for-media-stream,
--use-file-for-fake-video-capture; Debian's chromium and chromium-driver, driven by Selenium). Starts
`mffcnn serve` on a free port, opens its page, starts the camera, lets it run `--seconds`, then reads what the
page shows: the labels over the live video (track id and smoothed label), the timeline canvas, the frames the
page got answered; and saves a screenshot of the camera card (video, bars, timeline). Writes the
`serve_camera` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_browser import FLAGS, find_chromium, shrink  # noqa: E402
from serve_process import REPO, ServerProcess  # noqa: E402

from mffcnn.data.clips import FPS, make_clip  # noqa: E402

SECONDS = 10  # the fake camera's clip; Chromium plays it in a loop
WINDOW = (1100, 1100)


def camera_clip(folder: Path, seconds: float = SECONDS) -> Path:
    """The fake camera's video: `change`, neutral for its first half, then surprise."""
    frames = round(seconds * FPS)
    return make_clip("change", frames=frames, change_at=frames // 2).write(folder / "camera.y4m")


def run_camera(url: str, y4m: Path, *, seconds: float, screenshot: Path | None) -> dict:
    """Start the page's camera on the fake device, wait `seconds`, return what the page shows."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser, driver_path = find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        *FLAGS,
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--use-fake-ui-for-media-stream",  # the camera permission, granted
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.get(url)
        driver.find_element(By.ID, "camera").click()
        WebDriverWait(driver, 60).until(lambda d: not d.find_element(By.ID, "timeline").get_attribute("hidden"))
        started = time.perf_counter()
        time.sleep(seconds)
        # Stop the page's loop (not the camera), so that what is read and shot is one frame's answer.
        driver.execute_script("camera.running = false")
        time.sleep(1.0)
        labels = driver.execute_script(
            "return [...document.querySelectorAll('#live .face-label')].map((e) => e.textContent)"
        )
        status = driver.execute_script("return document.getElementById('status').textContent")
        history = driver.execute_script(
            "return [...camera.history.entries()].map(([k, v]) => [k, v.length, v.map((p) => p.label)])"
        )
        if screenshot is not None:
            card = driver.find_element(By.ID, "live")
            driver.execute_script("arguments[0].scrollIntoView()", card)
            card.screenshot(str(screenshot))
        problems = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        return {
            "labels": labels,
            "status": status,
            "history": history,
            "seconds": round(time.perf_counter() - started, 1),
            "problems": problems,
        }
    finally:
        driver.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--screenshot", default="docs/serve_timeline.png")
    ap.add_argument("--seconds", type=float, default=9.0, help="how long the camera runs before the screenshot")
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    args = ap.parse_args()
    from markdown import write_section

    if find_chromium() is None:
        sys.exit("Chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    with tempfile.TemporaryDirectory() as tmp:
        y4m = camera_clip(Path(tmp))
        with ServerProcess() as server:
            seen = run_camera(server.url + "/", y4m, seconds=args.seconds, screenshot=Path(args.screenshot))
    shrink(Path(args.screenshot))
    tracks = {k: (n, labels) for k, n, labels in seen["history"]}
    changes = {k: sum(a != b for a, b in zip(v[1], v[1][1:])) for k, v in tracks.items()}
    ok = bool(seen["labels"]) and all(lab.startswith("#") for lab in seen["labels"]) and tracks and not seen["problems"]
    write_section(
        args.out,
        "serve_camera",
        "The serve page's camera mode in headless Chromium",
        [
            f"`mffcnn serve` on a free port; its page in {find_chromium()[0]} (headless, Selenium) with a fake camera "
            f"playing a {SECONDS} s made clip (`change`: a drawn face, neutral, then surprise from {SECONDS / 2:g} s; "
            "looped); the camera started and left running.",
            "",
            f"- after {seen['seconds']:.1f} s: labels over the live video: {', '.join(seen['labels']) or 'none'}; "
            f"the page's status: {seen['status']}",
            "- the timeline's people (tracks) and points kept (last 10 s): "
            + ", ".join(f"#{k}: {n} points, {changes[k]} label changes" for k, (n, _) in tracks.items()),
            f"- the browser's errors: {'; '.join(seen['problems']) or 'none'}",
            f"- screenshot: `{args.screenshot}`",
            "",
            f"**{'passed' if ok else 'FAILED'}**",
        ],
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
