"""Open a report in a real headless browser (Chromium) and check what it shows.

Used by bench/report_browser.py and, where Chromium is installed, by the tests. Two things are checked:

* the DOM as the browser built it: a copy of the page with a small script that, once the page has
  loaded, counts the tables and images and how many images actually decoded (naturalWidth > 0), and
  writes the counts into the DOM, which `--dump-dom` then prints (the report itself has no script);
* a screenshot: it must not be blank, and it must hold coloured regions (figures: confusion matrices,
  heat maps), not only black text on white.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mffcnn.errors import MffcnnError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Flags: no sandbox (root in containers), no GPU, and nothing that reaches the network or a profile.
FLAGS = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars --virtual-time-budget=10000".split()

CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var d = document.createElement('div');
  d.id = 'mffcnn-check';
  d.setAttribute('data-images', imgs.length);
  d.setAttribute('data-decoded', imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length);
  d.setAttribute('data-tables', document.querySelectorAll('table').length);
  d.setAttribute('data-height', document.documentElement.scrollHeight);
  document.body.appendChild(d);
});
</script>"""


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class BrowserCheck:
    tables: int
    images: int
    decoded: int
    page_height: int
    screenshot: Path
    blank: bool
    coloured_fraction: float  # share of the screenshot's pixels that are clearly coloured (figures)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _run(browser: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="mffcnn-chromium-") as profile:
        return subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=timeout
        )


def screenshot_stats(path: Path) -> tuple[bool, float]:
    """(blank?, share of strongly coloured pixels) of a PNG."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return True, 0.0
    blank = float(img.std()) < 2.0  # one flat colour
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    coloured = (hsv[..., 1] > 80) & (hsv[..., 2] > 60)  # saturated and not dark: figure pixels, not text
    return blank, float(coloured.mean())


def check_in_browser(
    html_path: str | Path,
    screenshot: str | Path,
    *,
    window: tuple[int, int] = (1200, 3000),
    expect_tables: int = 1,
    expect_images: int = 1,
    expect_figures: bool = True,
    browser: str | None = None,
    timeout: float = 120,
) -> BrowserCheck:
    """Render html_path in headless Chromium: screenshot it and check its tables and figures.

    expect_figures: the screenshot must show figures (coloured regions); leave it off for a window
    that may hold only the first tables of a long page."""
    browser = browser or find_browser()
    if not browser:
        raise MffcnnError("no Chromium found; install it (Debian: apt-get install chromium)")
    html_path, screenshot = Path(html_path).resolve(), Path(screenshot).resolve()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    text = html_path.read_text()
    with tempfile.TemporaryDirectory(prefix="mffcnn-check-") as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(text.replace("</body>", CHECK_SCRIPT + "</body>", 1))
        dom = _run(browser, ["--dump-dom", probe.as_uri()], timeout).stdout
    shot = _run(
        browser, [f"--screenshot={screenshot}", f"--window-size={window[0]},{window[1]}", html_path.as_uri()], timeout
    )
    problems = []
    m = re.search(
        r'<div id="mffcnn-check" data-images="(\d+)" data-decoded="(\d+)" data-tables="(\d+)" '
        r'data-height="(\d+)"',
        dom,
    )
    if not m:
        problems.append("the browser did not load the page (no check element in the DOM)")
        images = decoded = tables = height = 0
    else:
        images, decoded, tables, height = map(int, m.groups())
    if tables < expect_tables:
        problems.append(f"{tables} tables in the DOM, expected at least {expect_tables}")
    if images < expect_images:
        problems.append(f"{images} images in the DOM, expected at least {expect_images}")
    if decoded < images:
        problems.append(f"only {decoded} of {images} images decoded")
    if not screenshot.exists():
        problems.append(f"no screenshot written ({shot.stderr.strip().splitlines()[-1:] or ''})")
        return BrowserCheck(tables, images, decoded, height, screenshot, True, 0.0, problems)
    blank, coloured = screenshot_stats(screenshot)
    if blank:
        problems.append("the screenshot is blank")
    if expect_figures and coloured < 0.01:
        problems.append(f"the screenshot shows no figures ({100 * coloured:.2f} % coloured pixels)")
    return BrowserCheck(tables, images, decoded, height, screenshot, blank, coloured, problems)
