"""The test suite run from a bench script: a fresh pytest process, timed, with its summary line."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PytestRun:
    proc: subprocess.CompletedProcess
    seconds: float

    @property
    def summary(self) -> str:
        """pytest's last line, e.g. "248 passed, 1 warning in 167.34s (0:02:47)"."""
        found = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?)\s*=*$", self.proc.stdout, flags=re.M)
        return found[-1] if found else "no pytest summary line"

    def failed_tests(self) -> list[str]:
        """The ids of the failed tests (pytest's `-rf` lines)."""
        return sorted(set(re.findall(r"^FAILED (\S+?)(?: - |$)", self.proc.stdout, flags=re.M)))

    def exit_if_failed(self) -> None:
        """A failed suite ends the bench script with pytest's exit code and the tail of its output."""
        if self.proc.returncode != 0:
            print(self.proc.stdout[-5000:], self.proc.stderr[-2000:], file=sys.stderr)
            sys.exit(self.proc.returncode)


def run_pytest(*args: str, cwd: Path = ROOT, env: dict | None = None) -> PytestRun:
    """`python -m pytest -p no:cacheprovider ARGS` in cwd (the repository by default), timed."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    return PytestRun(proc, time.perf_counter() - start)
