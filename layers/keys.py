"""API keys (DESIGN §5.3 roles): created by ``nrw-sites keys add``, stored only as salted hashes.

``DATA_DIR/keys.json`` (file mode 0600, written atomically: temporary file, fsync,
``os.replace``) holds one entry per key: its name, role, a public key id, a random salt and the
``hashlib.scrypt`` hash of the secret. The key itself is printed once at creation and never
stored, so a copy of the data directory does not give access.

A key reads ``nrw_<id>_<secret>``: the id (8 hex digits) finds the entry, the secret is checked
with scrypt and ``hmac.compare_digest``. An unknown id still costs one scrypt, so timing does not
tell a known id from an unknown one. Verified keys are remembered in memory under an HMAC of the
key with a per-process random secret (not the key itself), so a request with a key costs one
dictionary look-up after the first; the memo is dropped whenever ``keys.json`` changes, which is
how a revocation by the command line reaches a running server.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.errors import DomainError, InvalidParameter, NotFound

KEYS_FILE = "keys.json"
ROLES = ("staff", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
TOKEN = re.compile(r"^nrw_([0-9a-f]{8})_([A-Za-z0-9_\-]{43})$")
# scrypt: 16 MiB of memory and ~40 ms per check on this machine (RFC 7914's interactive setting)
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
MEMO_MAX = 4096


@dataclass(frozen=True)
class Key:
    """A stored key (without its secret)."""

    name: str
    role: str
    key_id: str
    created: str


def _scrypt(secret: str, salt: bytes, params: dict[str, int]) -> bytes:
    return hashlib.scrypt(
        secret.encode(),
        salt=salt,
        n=params["n"],
        r=params["r"],
        p=params["p"],
        dklen=params["dklen"],
        maxmem=64 * 1024 * 1024,
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class KeyStore:
    """The keys of one data directory."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.path = self.root / KEYS_FILE
        self._mutex = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._entries: dict[str, dict[str, Any]] = {}
        self._memo: dict[bytes, Key] = {}
        self._memo_secret = secrets.token_bytes(32)
        self._dummy_salt = secrets.token_bytes(16)

    # -- reading ---------------------------------------------------------------------------
    def _read(self) -> list[dict[str, Any]]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise DomainError(
                f"{self.path} is not valid JSON; restore it from a backup or "
                "remove it and create the keys again"
            ) from exc
        return list(doc.get("keys", []))

    def _refresh(self) -> None:
        """Re-read keys.json when it changed (inode, size, mtime); drop the memo then."""
        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp or not self._stamp:
            self._entries = {e["key_id"]: e for e in self._read()}
            self._memo.clear()
            self._stamp = stamp

    def list(self) -> list[Key]:
        """Every key (name, role, id, creation time), oldest first."""
        return [Key(e["name"], e["role"], e["key_id"], e["created"]) for e in self._read()]

    def get(self, key_id: str) -> Key | None:
        """The key with this id, or None once it is revoked (keys.json is re-read on change)."""
        with self._mutex:
            self._refresh()
            e = self._entries.get(key_id)
        return None if e is None else Key(e["name"], e["role"], e["key_id"], e["created"])

    def verify(self, token: str) -> Key | None:
        """The key a bearer token belongs to, or None (unknown, revoked or malformed)."""
        mac = hmac.new(self._memo_secret, token.encode("utf-8", "replace"), "sha256").digest()
        with self._mutex:
            self._refresh()
            hit = self._memo.get(mac)
            entry = None
            m = TOKEN.match(token)
            if m:
                entry = self._entries.get(m.group(1))
        if hit is not None:
            return hit
        secret = m.group(2) if m else token[:64]
        if entry is None:  # the same work as for a known id
            _scrypt(secret, self._dummy_salt, SCRYPT)
            return None
        params = {**SCRYPT, **entry.get("scrypt", {})}
        digest = _scrypt(secret, bytes.fromhex(entry["salt"]), params)
        if not hmac.compare_digest(digest, bytes.fromhex(entry["hash"])):
            return None
        key = Key(entry["name"], entry["role"], entry["key_id"], entry["created"])
        with self._mutex:
            if len(self._memo) >= MEMO_MAX:
                self._memo.clear()
            self._memo[mac] = key
        return key

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[builtins.list[dict[str, Any]]]:  # list: the method above
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".keys.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield self._read()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _write(self, entries: builtins.list[dict[str, Any]]) -> None:
        tmp = self.root / f".{KEYS_FILE}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"keys": entries}, f, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.root)

    def add(self, name: str, role: str) -> str:
        """Create a key; return it (the only time it exists outside the caller's hands)."""
        if role not in ROLES:
            raise InvalidParameter(f"role must be one of {', '.join(ROLES)}")
        if not NAME.match(name):
            raise InvalidParameter("a key name is 1–64 letters, digits, '_', '.', '-'")
        with self._locked() as entries:
            if any(e["name"] == name for e in entries):
                raise InvalidParameter(f"a key named {name!r} exists; revoke it first or choose another name")
            ids = {e["key_id"] for e in entries}
            key_id = secrets.token_hex(4)
            while key_id in ids:
                key_id = secrets.token_hex(4)
            secret = secrets.token_urlsafe(32)
            salt = secrets.token_bytes(16)
            entries.append(
                {
                    "name": name,
                    "role": role,
                    "key_id": key_id,
                    "salt": salt.hex(),
                    "hash": _scrypt(secret, salt, SCRYPT).hex(),
                    "scrypt": {k: SCRYPT[k] for k in ("n", "r", "p", "dklen")},
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                }
            )
            self._write(entries)
        return f"nrw_{key_id}_{secret}"

    def revoke(self, name: str) -> Key:
        """Remove a key by name; requests with it are refused from the next one on."""
        with self._locked() as entries:
            found = [e for e in entries if e["name"] == name]
            if not found:
                raise NotFound(f"no key named {name[:64]!r}")
            self._write([e for e in entries if e["name"] != name])
        e = found[0]
        return Key(e["name"], e["role"], e["key_id"], e["created"])
