"""Ctrl-C, remembered: `python -m mffcnn` and `mffcnn` end a Ctrl-C in one line, wherever it lands.

A Ctrl-C that lands inside a C extension's import (numpy importing datetime, say) comes out as an ImportError, not
a KeyboardInterrupt; the command line tells the two apart by whether a Ctrl-C came.
"""

from __future__ import annotations

import signal
import threading

_seen: list[int] = []


def remember_sigint() -> list[int]:
    """Make Ctrl-C raise KeyboardInterrupt, as Python's own handler does, and remember that it came: the list
    returned (one for the process, shared by every caller) gets an entry. Only in the main thread (signal handlers
    can be set nowhere else) and only over Python's default handler: a handler someone else set, or SIG_IGN (a
    background job), is kept."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) in (
        signal.default_int_handler,
        signal.SIG_DFL,
        None,
    ):
        signal.signal(signal.SIGINT, _on_sigint)
    return _seen


def _on_sigint(signum, frame):
    _seen.append(signum)
    raise KeyboardInterrupt
