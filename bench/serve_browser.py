"""The page of `mffcnn serve` in a real headless Chromium: upload the sample photo, see its box and label.

    python bench/serve_browser.py [--screenshot docs/serve.png] [--out BENCHMARKS.md]

Starts `mffcnn serve` on a free port, opens its page in Debian's Chromium (driven by Selenium through
Debian's chromedriver: `apt-get install chromium chromium-driver`; nothing is downloaded), chooses the
bundled public-domain sample photo in the page's file input, and waits until a face box and its label are
drawn over the photo and the probability bars are shown. It also checks that the page asked for nothing
outside the server (the browser's log: no failed load, no Content-Security-Policy violation). Writes a
screenshot of the annotated photo (small PNG) and the `serve_browser` section of BENCHMARKS.md.
tests/test_serve_process.py runs the same check where Chromium is installed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_process import REPO, ServerProcess  # noqa: E402

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver",)
WINDOW = (1100, 1000)  # px: the page's width for two columns (photo, bars)
# Headless, no sandbox (root in containers), no GPU, and nothing that reaches the network or a profile.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WAIT = 30.0  # s for the page to show a face (model, detection and drawing on a busy machine)
SAMPLE = REPO / "mffcnn" / "samples" / "astronaut.png"  # NASA, public domain
SCREENSHOT_WIDTH = 900  # px: the committed screenshot is scaled down to this, to stay small


def find_chromium() -> tuple[str, str] | None:
    """(chromium, chromedriver) when both are installed, else None."""
    browser = next((b for b in CHROMIUM if Path(b).exists()), None)
    driver = next((d for d in CHROMEDRIVER if Path(d).exists()), None) or shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@dataclass
class PageCheck:
    boxes: int
    labels: list[str]
    bars: int
    seconds: float  # from choosing the photo to the box drawn
    problems: list[str] = field(default_factory=list)  # the browser's errors (failed loads, CSP violations)


def check_page(url: str, image: Path = SAMPLE, *, screenshot: Path | None = None, wait: float = WAIT) -> PageCheck:
    """Open the page, choose `image` in its file input, wait for a face box and label; optionally save a
    screenshot of the annotated result."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    found = find_chromium()
    if found is None:
        raise RuntimeError("Chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (*FLAGS, f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    try:
        driver.get(url)
        started = time.perf_counter()
        driver.find_element(By.ID, "files").send_keys(str(Path(image).resolve()))
        WebDriverWait(driver, wait).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".result .face-label"))
        seconds = time.perf_counter() - started
        labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".result .face-label")]
        check = PageCheck(
            boxes=len(driver.find_elements(By.CSS_SELECTOR, ".result .face-box")),
            labels=labels,
            bars=len(driver.find_elements(By.CSS_SELECTOR, ".result .bar")),
            seconds=round(seconds, 2),
            problems=[e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"],
        )
        if screenshot is not None:
            card = driver.find_element(By.CSS_SELECTOR, "#results .result")
            driver.execute_script("arguments[0].scrollIntoView()", card)
            card.screenshot(str(screenshot))
        return check
    finally:
        driver.quit()


def shrink(path: Path, width: int = SCREENSHOT_WIDTH) -> None:
    """Scale a screenshot down and save it as a small palette PNG (it is committed)."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.width > width:
            image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        image.quantize(colors=128).save(path, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--screenshot", default="docs/serve.png")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    from markdown import write_section

    with ServerProcess() as server:
        check = check_page(server.url + "/", screenshot=Path(args.screenshot))
    shrink(Path(args.screenshot))
    ok = check.boxes >= 1 and check.labels and check.bars and not check.problems
    write_section(
        args.out,
        "serve_browser",
        "The serve page in headless Chromium",
        [
            f"`mffcnn serve` on a free port; its page opened in {find_chromium()[0]} (headless, driven by "
            "Selenium); the sample photo chosen in the page's file input.",
            "",
            f"- boxes drawn: {check.boxes}; labels: {', '.join(check.labels) or 'none'}; probability bars: "
            f"{check.bars}",
            f"- from choosing the photo to the box on screen: {check.seconds:.2f} s",
            f"- the browser's errors (failed loads, Content-Security-Policy violations): "
            f"{'; '.join(check.problems) or 'none'}",
            f"- screenshot: `{args.screenshot}` ({Path(args.screenshot).stat().st_size / 1000:.0f} kB)",
            "",
            f"**{'passed' if ok else 'FAILED'}**",
        ],
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
