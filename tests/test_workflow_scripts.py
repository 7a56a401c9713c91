"""Every workflow script starts the same way: the library of this tree, the rule's log file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
START = "from script_start import start\n\nstart(snakemake)\n"


def test_every_script_starts_with_the_shared_start() -> None:
    scripts = sorted(p for p in SCRIPTS.glob("*.py") if p.name != "script_start.py")
    assert len(scripts) >= 20
    missing = [p.name for p in scripts if not p.read_text().startswith(START)]
    assert missing == [], f"scripts without the shared start: {missing}"


def test_start_puts_this_tree_first_and_logs_uncaught_errors(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "rule.log"
    # -S: no site-packages, so `bridge` can only come from the path that start() inserts.
    program = (
        "import sys, types\n"
        f"sys.path.append({str(SCRIPTS)!r})\n"
        "from script_start import start\n"
        f"start(types.SimpleNamespace(scriptdir={str(SCRIPTS)!r}, log=[{str(log)!r}], "
        "threads=3))\n"
        "import os, bridge.logs\n"
        "print(bridge.logs.__file__)\n"
        "print(os.environ['OMP_NUM_THREADS'])\n"
        "raise ValueError('results/x.json: field beta_fit is missing')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run(
        [sys.executable, "-S", "-c", program],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1
    # The job's thread pools are sized from its threads.
    assert result.stdout.split() == [str(SCRIPTS.parents[1] / "bridge" / "logs.py"), "3"]
    assert "ValueError: results/x.json: field beta_fit is missing" in log.read_text()
