"""Logging that never blocks serving (issue 23): records leave the event loop through a bounded
queue, and one thread writes them to the sink (stderr: a terminal, a pipe, journald).

When the sink stalls — a pipe nobody reads, a slow journald, a blocking container log driver —
only that thread waits. The queue fills, and further records are dropped and counted instead of
blocking the request that logged them. When the sink drains again, a line says how many were
dropped; ``dropped`` (also in ``/healthz``) counts them since the start.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from typing import TextIO

QUEUE_RECORDS = 10_000
FORMAT = "%(message)s"


class LogSink:
    """A bounded queue of formatted lines and the daemon thread that writes them."""

    def __init__(self, stream: TextIO, maxsize: int = QUEUE_RECORDS):
        self.stream = stream
        self.queue: queue.Queue[str] = queue.Queue(maxsize)
        self._lock = threading.Lock()
        self.dropped = 0
        self._reported = 0
        self._thread = threading.Thread(target=self._run, name="log-sink", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        """Queue a line; count it as dropped when the queue is full (never wait)."""
        try:
            self.queue.put_nowait(line)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def _run(self) -> None:
        while True:
            line = self.queue.get()
            with self._lock:
                lost = self.dropped - self._reported
                self._reported = self.dropped
            try:
                if lost:
                    self.stream.write(
                        f'{{"event": "log_dropped", "lines": {lost}, "total": {self._reported}}}\n'
                    )
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed sink: the lines are lost, serving goes on
                with self._lock:
                    self.dropped += 1

    def flush(self, timeout: float = 2.0) -> None:
        """Wait (at most ``timeout`` seconds) until the queued lines are written (tests, exit)."""
        deadline = threading.Event()
        waited = 0.0
        while not self.queue.empty() and waited < timeout:
            deadline.wait(0.01)
            waited += 0.01


class QueueingHandler(logging.Handler):
    """A logging handler that formats on the caller's thread and hands the line to a sink."""

    def __init__(self, sink: LogSink):
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:  # noqa: D102
        try:
            self.sink.put(self.format(record))
        except Exception:  # noqa: BLE001 - a broken record must not break the request
            self.handleError(record)


_installed: LogSink | None = None


def install(stream: TextIO | None = None, maxsize: int = QUEUE_RECORDS) -> LogSink:
    """Route the service's log records (root and ``nrw_sites``) through one sink; idempotent."""
    global _installed
    if _installed is not None:
        return _installed
    sink = LogSink(stream or sys.stderr, maxsize)
    handler = QueueingHandler(sink)
    handler.setFormatter(logging.Formatter(FORMAT))
    for name in ("", "nrw_sites"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
    logging.getLogger().addHandler(handler)
    logging.captureWarnings(True)  # warnings too: a direct write to a stalled stderr would block
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("nrw_sites").setLevel(logging.INFO)
    _installed = sink
    return sink


def dropped() -> int:
    """Log lines dropped since the start because the sink was stalled (0 without a sink)."""
    return _installed.dropped if _installed is not None else 0
