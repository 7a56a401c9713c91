"""A script that fails after setup_logging leaves the reason in its log file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_uncaught_exception_reaches_the_log(repo_root: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "rule.log"
    script = (
        "from bridge.logs import setup_logging\n"
        f"setup_logging({str(log)!r})\n"
        "raise ValueError('results/x.json: key beta missing')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=repo_root, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "key beta missing" in result.stderr  # still on stderr for Snakemake's own output
    text = log.read_text()
    assert "CRITICAL uncaught: stopped by" in text
    assert "ValueError: results/x.json: key beta missing" in text
