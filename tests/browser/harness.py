"""What the browser tests and bench/ui.py share: the chromium launch, the live server, the checks.

Chromium is Debian's (``/usr/bin/chromium``), driven by PyPI playwright through
``executable_path``: playwright never downloads a browser here. MapLibre renders with WebGL2 on
SwiftShader (``--use-angle=swiftshader``), so screenshots show real map pixels headless.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "maps" / "static"
INDEX = STATIC / "index.html"
AXE = STATIC / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1366, "height": 768}
LOCAL_HOST = "127.0.0.1"

CHROMIUM_ARGS = [
    "--headless=new",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Belt and braces for "no network": no host but the test server resolves, so a stray
    # request fails at once (and is reported by the request log) instead of hanging.
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOCAL_HOST}",
]

READY_JS = "document.documentElement.dataset.ready === 'true'"

# Added before any page script: keeps the message and stack of what reaches console.error (the
# console event of an Error object carries only "Error") and the URL of every rejected fetch(),
# read back when a test reports errors.
CONSOLE_DETAIL_JS = r"""
(() => {
  const keep = window.__btConsoleErrors = [];
  const text = (x) => {
    const e = x instanceof Error ? x : (x && x.error instanceof Error ? x.error : null);
    if (e) return `${e.name}: ${e.message}\n${(e.stack || '').split('\n').slice(1, 4).join('\n')}`;
    try { return typeof x === 'string' ? x : JSON.stringify(x); } catch { return String(x); }
  };
  const origFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || String(input);
    return origFetch.call(this, input, init).catch((e) => {
      try { keep.push(`(fetch ${url} rejected: ${e && e.name}: ${e && e.message})`); } catch { /* */ }
      throw e;
    });
  };
  const orig = console.error;
  console.error = function (...args) {
    try { keep.push(args.map(text).join(' ')); } catch { /* never break the page */ }
    return orig.apply(this, args);
  };
})();
"""


def browser_required() -> bool:
    """True when the browser tests must run (CI, or NRW_SITES_REQUIRE_BROWSER): fail, not skip."""
    return bool(os.environ.get("CI") or os.environ.get("NRW_SITES_REQUIRE_BROWSER"))


def chromium_path() -> str | None:
    """Debian's chromium: $NRW_SITES_CHROMIUM, ``chromium`` on PATH, or /usr/bin/chromium."""
    env = os.environ.get("NRW_SITES_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind((LOCAL_HOST, 0))
        return int(s.getsockname()[1])


def build_demo(data: Path, n_sites: int, seed: int = 42) -> dict[str, Any]:
    """Publish a demo snapshot into ``data`` (imports lazily: bench/ui.py may reuse one)."""
    from layers.build import build
    from layers.store import Store

    return build(Store(data), n_sites=n_sites, seed=seed)


@contextmanager
def live_server(
    data: Path, log: Path | None = None, port: int | None = None, timeout: float = 120
) -> Iterator[str]:
    """``nrw-sites serve`` (uvicorn) on 127.0.0.1 and a free port in a subprocess; yields the URL.

    A subprocess, not a thread: the browser and the server must not share a GIL. The server's
    output goes to ``log`` (read back into the error when it does not come up).
    """
    port = port or free_port()
    url = f"http://{LOCAL_HOST}:{port}"
    if log is None:
        log = Path(tempfile.mkdtemp(prefix="bt-log-")) / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api.cli",
                "serve",
                "--data",
                str(data),
                "--host",
                LOCAL_HOST,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({proc.returncode}): {log.read_text(errors='replace')[-3000:]}"
                )
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not answer /healthz within {timeout:.0f} s: "
                    f"{log.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def launch(playwright: Any, **kw: Any) -> Any:
    """Launch Debian chromium headless with the SwiftShader flags (a fresh temporary profile)."""
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium not found (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True, **kw)


def is_local(url: str) -> bool:
    """True for data:, blob: and about: URLs and for http(s)/ws(s) URLs on 127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-error", ""):
        return True
    return parts.hostname == LOCAL_HOST


@dataclass
class PageLog:
    """What a browser context did: console errors, uncaught page errors and every request URL."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        """Subscribe to the context's events (covers every page, popup and worker in it)."""

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                loc = msg.location or {}
                self.console_errors.append(f"{msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})")

        context.on("console", on_console)
        context.on("weberror", lambda e: self.page_errors.append(str(e.error)))
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("requestfailed", lambda r: self.failed.append(f"{r.method} {r.url}: {r.failure}"))

    def offsite(self) -> list[str]:
        """Requests that went anywhere but the test server."""
        return [u for u in self.requests if not is_local(u)]

    def problems(self) -> list[str]:
        """Everything that makes a page test fail whatever it checked."""
        out = [f"request left {LOCAL_HOST}: {u}" for u in self.offsite()]
        out += [f"console error: {m}" for m in self.console_errors]
        out += [f"page error: {m}" for m in self.page_errors]
        return out


# -- pixels ----------------------------------------------------------------------------------
def decode_png(png: bytes) -> np.ndarray:
    """A PNG as an (h, w, 3) uint8 array."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB"))


def parse_css_colour(text: str) -> tuple[int, int, int] | None:
    """``#rrggbb``, ``#rgb``, ``rgb(r, g, b)`` or ``rgba(r, g, b, a)`` → (r, g, b); else None."""
    t = text.strip().lower()
    if t.startswith("#"):
        h = t[1:]
        if len(h) in (3, 4):
            h = "".join(c * 2 for c in h[:3])
        if len(h) in (6, 8):
            try:
                return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
            except ValueError:
                return None
        return None
    if t.startswith("rgb"):
        inner = t[t.find("(") + 1 : t.rfind(")")].replace("/", " ").replace(",", " ").split()
        try:
            r, g, b = (float(x) for x in inner[:3])
        except ValueError:
            return None
        return round(r), round(g), round(b)
    return None


def colour_counts(img: np.ndarray, colours: list[tuple[int, int, int]], tol: int = 10) -> list[int]:
    """How many pixels lie within ``tol`` (per channel) of each colour."""
    px = img.reshape(-1, 3).astype(np.int16)
    return [int((np.abs(px - np.array(c, dtype=np.int16)) <= tol).all(axis=1).sum()) for c in colours]


# Screenshot of the map alone: every element hidden except the map canvas, so legend swatches
# and panels cannot pass for drawn sites.
MAP_ONLY_CSS = (
    "body * { visibility: hidden !important; } "
    "canvas.maplibregl-canvas, .maplibregl-canvas-container canvas "
    "{ visibility: visible !important; }"
)
