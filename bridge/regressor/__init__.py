"""The Mackey-Glass regressor stage: MTC, LIF and AdLIF networks, baselines, metrics.

Trained arms (every model trains its neuron parameters, as the MTC paper ran them) and mapped
arms (a condition's HH-fitted MTC or LIF neuron, frozen). One module per job: ``mackey_glass``
(the series), ``data`` (splits, z-scoring, windows), ``model`` (projection, spiking layer,
readout), ``neuron_setup`` (mapping record or none -> hidden layer), ``training`` (BPTT),
``evaluation`` (one step ahead, closed loop, per-horizon accuracy and activity), ``metrics``
(R², sMAPE, MSE, skill scores), ``activity`` (S_comm, activation sparsity, synaptic
operations, S_comp), ``baselines`` (repeat-last-value, ridge AR), ``summary`` (medians over
seeds: trained arms beside the MTC paper's, mapped arms beside the trained arm), ``figures``,
and ``stage`` (what the rules call).
"""
