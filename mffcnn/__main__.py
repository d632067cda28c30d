import signal
import sys

_interrupted: list[int] = []


def _on_sigint(signum, frame):
    """Python's own Ctrl-C (KeyboardInterrupt), remembered: a Ctrl-C that lands inside a C extension's import
    (numpy importing datetime, say) comes out as an ImportError, and must still end in one line."""
    _interrupted.append(signum)
    raise KeyboardInterrupt


_on_sigint._mffcnn_seen = _interrupted  # cli.main goes on remembering in the same list
signal.signal(signal.SIGINT, _on_sigint)
try:  # a Ctrl-C while the command line module loads: one line, as in main()
    from mffcnn.cli import main
except KeyboardInterrupt:
    print("mffcnn: interrupted", file=sys.stderr)
    sys.exit(130)
except ImportError:
    if not _interrupted:
        raise
    print("mffcnn: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
