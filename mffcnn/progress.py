"""Progress bars that suit where they are shown.

On a terminal: tqdm's bar, redrawn in place. Anywhere else (a log file, CI, `make demo | tee`), a redrawn
bar becomes hundreds of updates joined by carriage returns; there a bar writes one plain line at most every
LOG_EVERY seconds, one when its description changes (a new fold begins), and one when it closes, each with
the time spent and an estimate of the time left, so a long training still says how far it is and how long
it will take.
"""

from __future__ import annotations

import sys
import time

LOG_EVERY = 30.0  # seconds between the lines of a bar that is not on a terminal


class LineProgress:
    """tqdm's interface, as far as mffcnn uses it, writing plain lines to stderr."""

    def __init__(self, total=None, desc: str = "", unit: str = "it", disable: bool = False, **_):
        self.total, self.desc, self.unit, self.disable = total, desc, unit, disable
        self.n = 0
        self.postfix = ""
        self._start = self._last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        if not self.disable and time.monotonic() - self._last >= LOG_EVERY:
            self._line()

    def set_description(self, desc: str) -> None:
        if desc != self.desc and self.n and not self.disable:
            self._line()  # where the last stage ended
        self.desc = desc

    def set_postfix(self, **values) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def write(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if not self.disable and self.n:
            self._line()
        self.disable = True

    def _line(self) -> None:
        self._last = time.monotonic()
        done = f"{self.n}/{self.total}" if self.total else str(self.n)
        tail = f" ({self.postfix})" if self.postfix else ""
        spent = self._last - self._start
        left = f", about {spent / self.n * (self.total - self.n):.0f} s left" if self.total and self.n else ""
        print(f"{self.desc}: {done} {self.unit}{tail} [{spent:.0f} s{left}]", file=sys.stderr, flush=True)

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(total=None, *, desc: str = "", unit: str = "it", disable: bool = False, leave: bool = True):
    """A tqdm bar on a terminal, a LineProgress elsewhere."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(
            total=total, desc=desc, unit=unit, disable=disable, leave=leave, dynamic_ncols=True, file=sys.stderr
        )
    return LineProgress(total=total, desc=desc, unit=unit, disable=disable)
