"""`mffcnn MODE args`: a thin command line over the library.

Each mode is a module in mffcnn/commands with `register(subparsers)`; adding a mode is adding a
module to COMMANDS. Every user error ends as one line `mffcnn: error: …` and exit code 2;
Ctrl-C as one line and 130.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import shlex
import sys

from mffcnn.errors import MffcnnError
from mffcnn.interrupts import remember_sigint

COMMANDS = [
    "prepare",
    "cv",
    "train",
    "evaluate",
    "predict",
    "export",
    "ablate",
    "gradcam",
    "report",
    "sfew",
    "params",
    "serve",
]


class Parser(argparse.ArgumentParser):
    """argparse that answers a mistyped option or mode with the closest valid one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # `--epoch` must not silently mean `--epochs`
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        if "unrecognized arguments:" in message:
            valid = _option_strings(self)
            hints = []
            for bad in message.split(":", 1)[1].split():
                close = difflib.get_close_matches(bad.split("=")[0], valid, n=1)
                if close:
                    hints.append(f"{bad} → did you mean {close[0]}?")
            if hints:
                message += " (" + "; ".join(hints) + ")"
        elif "invalid choice:" in message:
            choices = [c for a in self._actions if a.choices for c in a.choices]
            bad = message.split("invalid choice:", 1)[1].split("'")[1] if "'" in message else ""
            close = difflib.get_close_matches(bad, [str(c) for c in choices], n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        self.exit(2, f"{self.prog}: error: {message}\n")


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every option of a parser and its modes' parsers (unknown options surface at the top level)."""
    found = []
    for action in parser._actions:
        found += action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _option_strings(sub)
    return sorted(set(found))


def build_parser(mode: str | None = None) -> Parser:
    """The parser of every mode, or of `mode` alone: registering a mode imports its command module, and some
    import torch, matplotlib or the dataset loaders, so `mffcnn predict` registers only predict (start-up)."""
    from mffcnn import __version__

    parser = Parser(prog="mffcnn", description="MFF-CNN facial expression recognition (Zou, Zhang & Lee 2021)")
    parser.add_argument("--version", action="version", version=f"mffcnn {__version__}")
    sub = parser.add_subparsers(dest="mode", metavar="MODE", parser_class=Parser)
    for name in [mode] if mode in COMMANDS else COMMANDS:
        importlib.import_module(f"mffcnn.commands.{name}").register(sub)
    return parser


# Modes that answer requests rather than train: their idle OpenMP threads should sleep (see main).
SERVING_MODES = ("predict", "export", "serve")


def main(argv: list[str] | None = None) -> int:
    interrupted = remember_sigint()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before the mode started (while modules load): one line, no traceback
        print("mffcnn: interrupted", file=sys.stderr)
        return 130
    except ImportError:  # a Ctrl-C inside a C extension's import (numpy's) comes out as an ImportError
        if not interrupted:
            raise
        print("mffcnn: interrupted", file=sys.stderr)
        return 130


def _shutdown() -> None:
    """Leave torchrun's process group if one was joined. Only when torch.distributed is loaded already: a
    Ctrl-C can stop a mode while torch is half imported, and importing it again here would fail."""
    if "torch.distributed" not in sys.modules or "mffcnn.train.distributed" not in sys.modules:
        return
    try:
        sys.modules["mffcnn.train.distributed"].shutdown()
    except Exception:  # a half-initialised torch: nothing to leave
        pass


def _main(argv: list[str] | None) -> int:
    # Before torch loads its OpenMP runtime. When classifying, idle OpenMP threads sleep instead of spinning:
    # an application shares its machine with other work, and spinning threads fight that work for the cores.
    # Training keeps OpenMP's default, which spins briefly between the thousands of small operations of a step
    # (bench/ferplus_speed.py times whole epochs of both). A user's own OMP_WAIT_POLICY wins.
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    if words and words[0] in SERVING_MODES:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except MffcnnError as e:
        print(f"mffcnn: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = ""
        if args.mode in ("cv", "train", "ablate"):
            project = getattr(args, "project", "runs")
            where = f" --project {shlex.quote(str(project))}" if project != "runs" else ""
            hint = f" (resume with: mffcnn {args.mode} --resume{where})"
        print(f"mffcnn: interrupted{hint}", file=sys.stderr)
        return 130
    finally:
        _shutdown()


if __name__ == "__main__":
    sys.exit(main())
