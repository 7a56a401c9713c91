"""The Mackey-Glass regressor stage: MTC, LIF and AdLIF networks, baselines, metrics.

One module per job: ``data`` (series, z-scoring, windows),
``baselines`` (repeat-last-value, ridge AR), ``neuron_setup`` (mapping JSON -> hidden
layer), ``training`` (BPTT), ``evaluation`` (one step ahead, closed loop, sparsity),
``run`` (the entry point :func:`train_regressor`), ``summary`` (medians over seeds beside
the MTC paper's).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # Imported on first use: the package's torch-free modules are read by the compare stage,
    # whose environment has no torch.
    if name == "train_regressor":
        from bridge.regressor.run import train_regressor

        return train_regressor
    raise AttributeError(f"module 'bridge.regressor' has no attribute {name!r}")


__all__ = ["train_regressor"]
