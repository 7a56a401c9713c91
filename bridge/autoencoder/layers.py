"""The autoencoder's layer names (the paper's Table 1), without torch: the paper-values loader
and the compare stage (envs/analysis.yaml) need them, the model builds from them."""

from __future__ import annotations

#: Paper layer names, input to output; the last one is the non-spiking readout.
LAYER_NAMES = (
    "EC_Lk1",
    "EC_Syn1",
    "EC_Syn2",
    "EC_Lk2",
    "LS_Lk",
    "DC_Lk1",
    "DC_Syn1",
    "DC_Syn2",
    "DC_Lk2",
)
READOUT_LAYER = "DC_Lk2"
SPIKING_LAYERS = LAYER_NAMES[:-1]
SYNAPTIC_LAYERS = ("EC_Syn1", "EC_Syn2", "DC_Syn1", "DC_Syn2")
