"""The error every reader and check raises: it names the layer, the file and every problem found."""

from __future__ import annotations

from pathlib import Path

from geo.errors import Conflict, DomainError

MAX_LISTED = 25


class SourceError(DomainError):
    """A source file cannot be used; ``problems`` lists each reason, with row numbers where known."""

    def __init__(self, layer: str, path: str | Path | None, problems: list[str] | str):
        self.layer = layer
        self.path = str(path) if path is not None else None
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        where = f"layer '{layer}'" + (f" ({self.path})" if self.path else "")
        if len(self.problems) == 1:
            text = f"{where}: {self.problems[0]}"
        else:
            shown = self.problems[:MAX_LISTED]
            more = len(self.problems) - len(shown)
            text = f"{where}: {len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in shown)
            if more:
                text += f"\n  ... and {more} more"
        super().__init__(text)


def rows_text(rows: list[int], limit: int = 10) -> str:
    """Format 0-based feature positions as a short human list of 1-based row numbers."""
    shown = ", ".join(str(r + 1) for r in rows[:limit])
    return shown + (f" (+{len(rows) - limit} more)" if len(rows) > limit else "")


class BuildRunning(Conflict, RuntimeError):
    """Another build or publish holds the store's writer lock."""


class CorruptSnapshot(Conflict):
    """A snapshot file does not match the checksum written at publish."""


class IncompatibleSnapshot(Conflict):
    """A snapshot written in a format this release does not read (too new, or unknown)."""
