"""Logging that never blocks serving (issue 23): records leave the event loop through a bounded
queue, and one thread writes them to the sink (stderr: a terminal, a pipe, journald).

When the sink stalls — a pipe nobody reads, a slow journald, a blocking container log driver —
only that thread waits. The queue fills, and further records are dropped and counted instead of
blocking the request that logged them. When the sink drains again, a line says how many were
dropped; ``dropped`` (also in ``/healthz``) counts them since the start.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import sys
import threading
import time
from typing import TextIO

QUEUE_RECORDS = 10_000
BATCH_S = 0.02  # the writer gathers a burst this long: one wake-up and one write per batch
FORMAT = "%(message)s"


class LogSink:
    """A bounded queue of formatted lines and the daemon thread that writes them."""

    def __init__(self, stream: TextIO, maxsize: int = QUEUE_RECORDS):
        self.stream = stream
        # a real file (stderr) is written with os.write on a duplicate of its descriptor: the
        # writer holds no Python buffer lock while it waits, so neither another thread's write
        # nor the interpreter's exit can get stuck behind it
        try:
            self._fd: int | None = os.dup(stream.fileno())
        except (AttributeError, OSError, ValueError):
            self._fd = None
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

    def _write(self, text: str) -> None:
        if self._fd is None:
            self.stream.write(text)
            self.stream.flush()
            return
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self._fd, data) :]

    def _run(self) -> None:
        while True:
            lines = [self.queue.get()]
            # asleep, not waiting on the queue, the writer costs a request's put nothing: under
            # load a line no longer wakes a thread that takes the GIL from the event loop
            time.sleep(BATCH_S)
            while len(lines) < QUEUE_RECORDS:
                try:
                    lines.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            line = "\n".join(lines)
            with self._lock:
                lost = self.dropped - self._reported
                self._reported = self.dropped
            notice = (
                f'{{"event": "log_dropped", "lines": {lost}, "total": {self._reported}}}\n' if lost else ""
            )
            try:
                self._write(notice + line + "\n")
            except (OSError, ValueError):  # a closed sink: the lines are lost, serving goes on
                with self._lock:
                    self.dropped += 1

    def flush(self, timeout: float = 2.0) -> None:
        """Wait (at most ``timeout`` seconds) until the queued lines are written (tests, exit)."""
        deadline = time.monotonic() + timeout
        while not self.queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)


class QueueStream(io.TextIOBase):
    """``sys.stderr`` once the sink is installed: prints, warnings and tracebacks take the same
    queue, so no write to stderr can hold up a request."""

    def __init__(self, sink: LogSink):
        super().__init__()
        self.sink = sink
        self._part = ""

    def writable(self) -> bool:  # noqa: D102
        return True

    def write(self, s: str) -> int:  # noqa: D102
        *lines, self._part = (self._part + s).split("\n")
        for line in lines:
            self.sink.put(line)
        return len(s)


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
    logging.captureWarnings(True)
    if stream is None or stream is sys.stderr:  # everything else that writes to stderr, too
        sys.stderr = QueueStream(sink)
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("nrw_sites").setLevel(logging.INFO)
    _installed = sink
    return sink


def dropped() -> int:
    """Log lines dropped since the start because the sink was stalled (0 without a sink)."""
    return _installed.dropped if _installed is not None else 0
