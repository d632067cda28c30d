"""argparse `type=` functions: every numeric option checked while the command line is parsed.

A bad value ends as one line that names the option and what it allows, before anything is loaded or run:

    mffcnn train: error: argument --epochs: must be a whole number of at least 1, not '-1'

NaN and infinity are refused wherever a finite number is meant (float('nan') passes every `<= 0` test, which
is how `--body-timeout nan` once answered 408 to every request).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def whole(minimum: int | None = None, maximum: int | None = None):
    """A whole number in [minimum, maximum] (either bound may be open)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be a whole number {_range(minimum, maximum)}, not {text!r}")
        return value

    return parse


def number(minimum: float = 0.0, *, above: bool = True, maximum: float | None = None):
    """A finite number above minimum (or at least minimum, above=False), and at most maximum."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        low_ok = value > minimum if above else value >= minimum
        if not math.isfinite(value) or not low_ok or (maximum is not None and value > maximum):
            top = f" and at most {maximum:g}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(
                f"must be a finite number {'above' if above else 'at least'} {minimum:g}{top}, not {text!r}"
            )
        return value

    return parse


def existing_file(text: str) -> str:
    """A path to a file that exists (a checkpoint, a model): checked before anything is loaded."""
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text!r} does not exist")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file")
    return text


def _range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"from {minimum} to {maximum}"
    if minimum is not None:
        return f"of at least {minimum}"
    return f"of at most {maximum}" if maximum is not None else ""


COUNT = whole(1)  # epochs, threads, batch sizes, frames: at least one
INDEX = whole(0)  # a webcam, a face of a dataset: from 0
FOLDS = whole(2)
SEED = whole(0, 2**63 - 1)  # torch.manual_seed's range
POSITIVE = number(0.0)  # learning rates, limits, timeouts: finite and above 0
FRACTION = number(0.0, maximum=1.0)  # (0, 1]
NON_NEGATIVE = number(0.0, above=False)
