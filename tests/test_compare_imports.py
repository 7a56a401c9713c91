"""The comparison stage runs in envs/analysis.yaml: no torch, snntorch, NEURON or Snakemake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "snntorch", "neuron", "brian2", "efel", "snakemake"}:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import bridge.compare.stage, bridge.compare.figures, bridge.contracts, bridge.paper_values
print("ok")
"""


def test_library_imports_without_the_training_stack(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER], cwd=repo_root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
