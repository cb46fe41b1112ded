"""Shared by the benchmarks: a stage timer with peak-RSS sampling, a free loopback port and the
demo snapshot a server benchmark runs on."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (loopback)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def demo_data(data: Path, sites: int) -> None:
    """Build the demo snapshot of ``sites`` sites into ``data`` unless one is live there."""
    if not (data / "CURRENT").exists():
        print(f"building the {sites:,}-site demo in {data} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "api.cli", "build", "--demo", "--sites", str(sites), "--data", str(data)],
            check=True,
            cwd=ROOT,
        )


class Stages:
    """Record wall time and peak RSS per named stage (RSS sampled every 20 ms)."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.rows: list[tuple[str, float, float]] = []
        self.name: str | None = None
        self.t0 = self.start = time.perf_counter()
        self.peak = 0
        self.all_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = self.proc.memory_info().rss
            self.peak = max(self.peak, rss)
            self.all_peak = max(self.all_peak, rss)
            time.sleep(0.02)

    def __call__(self, name: str) -> None:
        """Close the running stage and open ``name``."""
        now = time.perf_counter()
        rss = self.proc.memory_info().rss
        self.peak = max(self.peak, rss)
        if self.name is not None:
            self.rows.append((self.name, now - self.t0, self.peak / 1e6))
        self.name, self.t0, self.peak = name, now, rss

    def finish(self) -> None:
        """Close the last stage and stop sampling."""
        self("end")
        self._stop.set()

    def print(self, title: str) -> None:
        """Print the table."""
        print(f"\n{title}")
        print(f"{'stage':<48} {'wall s':>8} {'peak RSS MB':>12}")
        for name, secs, mb in self.rows:
            print(f"{name[:48]:<48} {secs:>8.2f} {mb:>12.0f}")
        print(f"{'total':<48} {time.perf_counter() - self.start:>8.2f} {self.all_peak / 1e6:>12.0f}")
