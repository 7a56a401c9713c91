"""What every script in this folder does first, so that each script is one library call.

Snakemake puts this folder on ``sys.path`` for the scripts of ``script:`` rules. The library is
taken from this source tree (also inside conda environments and on cluster nodes, where the
package is not installed), and the rule's log file receives the library's log and any
uncaught exception.
"""

import sys
from pathlib import Path
from typing import Any


def start(snakemake: Any) -> None:
    """Put the repository on ``sys.path`` and log to ``snakemake.log[0]``."""
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))
    from bridge.logs import setup_logging

    setup_logging(snakemake.log[0])
