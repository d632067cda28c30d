"""Giving the memory freed by finished requests back to the operating system, once the server is idle.

A request's body, its decoded images and its crops are freed when it ends, but glibc's malloc keeps freed
memory in its heaps (one arena per thread that allocated) for reuse: after a burst of large requests (a
thousand uploads cut mid-way, each body buffered up to where it stopped) the server's resident memory stays
at the burst's peak. `malloc_trim(0)` returns the free pages of every arena. It costs a walk of the heap
(milliseconds), so it runs only when no request is in progress and no connection waits for one, a moment
after the server became idle, and at most once per `INTERVAL`. Where there is no glibc (musl, macOS) it does
nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import time

DELAY = 0.2  # s the server must stay idle before the trim: a burst's next request usually comes sooner
INTERVAL = 1.0  # s between two trims at least


def _malloc_trim():
    """glibc's malloc_trim, or None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


class HeapTrimmer:
    """`idle()` when the server has nothing in progress: a trim DELAY s later if it is still idle then
    (`busy()` cancels it). Used from the event loop's thread."""

    def __init__(self):
        self.trim = _malloc_trim()
        self.pending: asyncio.TimerHandle | None = None
        self.last = 0.0
        self.trims = 0  # how many times the heap was trimmed (shown by /health)

    def idle(self) -> None:
        if self.trim is None or self.pending is not None:
            return
        wait = max(DELAY, self.last + INTERVAL - time.monotonic())
        self.pending = asyncio.get_running_loop().call_later(wait, self._run)

    def busy(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None

    def _run(self) -> None:
        self.pending = None
        self.trim(0)
        self.last = time.monotonic()
        self.trims += 1
