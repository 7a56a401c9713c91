"""The Mackey-Glass regressor stage: MTC, LIF and AdLIF networks, baselines, metrics.

One module per job: ``settings`` (config section), ``data`` (series, z-scoring, windows),
``baselines`` (repeat-last-value, ridge AR), ``neuron_setup`` (mapping JSON -> hidden
layer), ``training`` (BPTT), ``evaluation`` (one step ahead, closed loop, sparsity),
``run`` (the entry point :func:`train_regressor`), ``summary`` (medians over seeds beside
the MTC paper's).
"""

from bridge.regressor.run import train_regressor

__all__ = ["train_regressor"]
