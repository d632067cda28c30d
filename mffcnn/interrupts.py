"""Ctrl-C, remembered: `python -m mffcnn` and `mffcnn` end a Ctrl-C in one line, wherever it lands.

A Ctrl-C that lands inside a C extension's import (numpy importing datetime, say) comes out as an ImportError, not
a KeyboardInterrupt; the command line tells the two apart by whether a Ctrl-C came. Worse, one that lands while
torch's import runs Python code from C++ (pybind11) cannot be carried through C++ at all: the process aborts
(`terminate called after throwing an instance of 'pybind11::error_already_set'`, exit -6). So a Ctrl-C that
comes during an import is not raised there: it is remembered and sent again a moment later, until it lands
outside every import, where it is an ordinary KeyboardInterrupt. An import takes at most a few seconds, so the
answer to Ctrl-C comes at most that late.

Once the command has returned and Python begins to exit, a Ctrl-C ends the process at once, as the system's
default does (exit status -2, nothing printed): raised as a KeyboardInterrupt there it would land in Python's own
shutdown code (waiting for threads, weakref finalizers), which prints it as an ignored exception with its
traceback (bench/ctrl_c.py: 1 run in 60 before this). The results are written by then.
"""

from __future__ import annotations

import os
import signal
import threading

_seen: list[int] = []
RETRY_S = 0.05  # how soon a Ctrl-C that came during an import is sent again


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
        global _exit_hooked
        if not _exit_hooked:
            # CPython's hook run as Python begins to exit, in the main thread, before it waits for the threads
            # and runs the atexit functions (concurrent.futures stops its threads with it).
            threading._register_atexit(_default_at_exit)
            _exit_hooked = True
    return _seen


_exit_hooked = False


def _default_at_exit() -> None:
    """From here on a Ctrl-C ends the process at once (see the module's docstring)."""
    if signal.getsignal(signal.SIGINT) is _on_sigint:
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def importing(frame) -> bool:
    """Whether `frame` runs inside an import: importlib's own frames are on its stack."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _on_sigint(signum, frame):
    _seen.append(signum)
    if importing(frame):  # not here: raised inside an import it may abort the process (see above)
        timer = threading.Timer(RETRY_S, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    raise KeyboardInterrupt
