"""Biophysical models: NEURON cell builders, .mod files, protocols, the Brian2 twin."""
