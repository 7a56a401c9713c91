"""The Mackey-Glass regressor stage: MTC, LIF and AdLIF networks, baselines, metrics.

One module per job: ``mackey_glass`` (the series), ``data`` (splits, z-scoring, windows),
``model`` (projection, spiking layer, readout), ``neuron_setup`` (mapping record -> hidden
layer), ``training`` (BPTT), ``evaluation`` (one step ahead, closed loop, sparsity), ``metrics``
(R², sMAPE, S_comm, S_comp), ``baselines`` (repeat-last-value, ridge AR), ``summary`` (medians
over seeds beside the MTC paper's), ``figures``, and ``stage`` (what the rules call).
"""
