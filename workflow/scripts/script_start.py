"""What every script in this folder does first, so that each script is one library call.

Snakemake puts this folder on ``sys.path`` for the scripts of ``script:`` rules. The library is
taken from this source tree (also inside conda environments and on cluster nodes, where the
package is not installed), and the rule's log file receives the library's log and any
uncaught exception.
"""

import os
import sys
from pathlib import Path
from typing import Any

#: Thread pools sized from these at first use (PyTorch's intra-op pool, OpenMP, BLAS).
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def start(snakemake: Any) -> None:
    """Put the repository on ``sys.path``, log to ``snakemake.log[0]`` and keep the job's
    thread pools to its ``threads`` (unless the environment already sets them): a rule with
    ``threads: 1`` otherwise runs PyTorch on every core, and parallel jobs oversubscribe."""
    for name in THREAD_ENV:
        os.environ.setdefault(name, str(max(1, int(snakemake.threads))))
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))
    from bridge.logs import setup_logging

    setup_logging(snakemake.log[0])
