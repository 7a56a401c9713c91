"""Bridge from Hodgkin-Huxley channelopathies to spiking-network parameters."""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root (the package is installed editable; schemas live in workflow/schemas).
REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO_ROOT / "workflow" / "schemas"
#: The quick (default) run's config files, in the order Snakemake merges them.
QUICK_CONFIG_FILES = (REPO_ROOT / "config" / "config.yaml", REPO_ROOT / "config" / "quick.yaml")
