"""The house rules that `make lint` enforces, run by `make test` too (issue 22 §5).

No Python or JavaScript file in geo/, layers/, api/ or maps/ (vendored code excluded) is over
500 lines: the same check as `make lint`'s `tools/check_size.py`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "tools" / "check_size.py"


@pytest.mark.house
def test_no_source_file_over_500_lines():
    """tools/check_size.py passes: it names each file over 500 lines with its line count."""
    run = subprocess.run([sys.executable, str(CHECK)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, f"files over 500 lines (split them along their seams):\n{run.stdout}"


@pytest.mark.house
def test_the_size_check_finds_a_long_file_and_skips_vendored_code(tmp_path):
    """The check itself: a file over the limit is reported, vendored and minified code is not."""
    (tmp_path / "maps" / "static" / "vendor" / "lib").mkdir(parents=True)
    (tmp_path / "api").mkdir()
    long = "x = 1\n" * 501
    (tmp_path / "api" / "long.py").write_text(long)
    (tmp_path / "api" / "fits.py").write_text("x = 1\n" * 500)
    (tmp_path / "maps" / "static" / "app.js").write_text(long)
    (tmp_path / "maps" / "static" / "lib.min.js").write_text(long)
    (tmp_path / "maps" / "static" / "vendor" / "lib" / "big.js").write_text(long)
    (tmp_path / "maps" / "notes.txt").write_text(long)
    script = tmp_path / "tools" / "check_size.py"
    script.parent.mkdir()
    script.write_text(CHECK.read_text(encoding="utf-8"))

    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        "api/long.py: 501 lines (more than 500); split it along its seams",
        "maps/static/app.js: 501 lines (more than 500); split it along its seams",
    ]
    run = subprocess.run(
        [sys.executable, str(script), "--exclude", "api/long.py", "maps/static/app.js"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stdout) == (0, "")
