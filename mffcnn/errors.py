"""One error type for everything a user can get wrong, and one way to warn.

The CLI turns an MffcnnError into a single line on stderr and exit code 2, never a traceback.
Per-file problems are warnings (and are counted in the summaries), not errors.
"""

from __future__ import annotations

import sys


class MffcnnError(Exception):
    """A problem with the user's input or options, explained in one line."""


def warn(message: str) -> None:
    # tqdm.write keeps a running progress bar intact.
    from tqdm import tqdm

    tqdm.write(f"mffcnn: warning: {message}", file=sys.stderr)
