"""Conductance -> network-parameter mappings fitted from the HH spike statistics.

Modules (docs/mapping.md explains the fits):

* ``stage``      the workflow's entry points: reference.json, {condition}.json, mappings.csv;
* ``objective``  which HH data (fi_curve.csv, summary.json) enter a fit, and the objective;
* ``search``     the searches, profile intervals and statuses both fits share;
* ``lif``        the float64 numpy LIF and its fit (beta, bias; gain w on the reference);
* ``mtc``        the MTC neuron (``bridge.neurons.mtc``) under the HH protocols and its fit
                 (a_fast, i_bias; input scale/offset and slow gain on the reference);
* ``analytic``   the paper's label mapping beta = exp(-gnabar) and beta = exp(-dt/tau_m);
* ``synthetic_tables`` f-I tables of a known LIF or MTC in the HH contract format;
* ``summary``    the table across conditions and whether analytic and fitted beta agree;
* ``figures``    the f-I overlay and parameter-curve figures.
* ``nir_export`` a usable LIF mapping as a NIR graph (lif.nir) with its conventions sidecar.
"""
