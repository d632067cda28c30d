"""A real `mffcnn serve` process on a free port, for the serve tests and benchmarks.

    with ServerProcess(["--threads", "2"]) as server:
        httpx2.get(server.url + "/health")
        print(server.rss_mb())

Started as a user starts it (`python -m mffcnn serve --port P`), ready once GET /health answers, stopped with
Ctrl-C (SIGINT) as a user stops it, killed if it does not stop. Its output goes to a log file that the error
shows when it fails to start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0  # s: importing torch and loading the model on a busy 2-core machine
STOP_TIMEOUT = 10.0
POLL = 0.1  # s between health checks while it starts


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`mffcnn serve` in a child process, as a context manager."""

    def __init__(self, args: list[str] = (), *, python: str = sys.executable):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [python, "-m", "mffcnn", "serve", "--port", str(self.port), *args]
        self.log = Path(tempfile.mkstemp(prefix="mffcnn-serve-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ServerProcess:
        import httpx2

        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mffcnn serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx2.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return self
            except httpx2.TransportError:
                pass
            time.sleep(POLL)
        self.__exit__()
        raise RuntimeError(f"mffcnn serve did not answer within {START_TIMEOUT:.0f} s:\n{self.output()}")

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far, all its threads (Linux: /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def open_files(self) -> int:
        """The server's open file descriptors now: its sockets among them (Linux: /proc)."""
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def rss_mb(self) -> float:
        """The server's resident memory now, in MB (Linux: /proc)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")
