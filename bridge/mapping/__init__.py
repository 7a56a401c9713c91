"""Conductance -> network-parameter mappings fitted from the HH spike statistics.

Modules:

* ``analytic``   the paper's label mapping beta = exp(-gnabar) and beta = exp(-dt/tau_m);
* ``lif_model``  a numpy discrete LIF with snntorch ``Leaky`` semantics (vectorised);
* ``targets``    which HH data (fi_curve.csv, summary.json) enter a fit, and the objective;
* ``lif_fit``    the LIF fit (beta, bias; gain w on the reference condition), intervals,
                 trade-offs and statuses (``fit_lif_condition``, ``fit_reference``);
* ``mtc_model``  the MTC neuron (``bridge.neurons.mtc``) under the HH protocols, in ms and nA;
* ``mtc_fit``    the MTC fit (a_fast, i_bias; input scale/offset and slow gain on the
                 reference condition), intervals and statuses;
* ``synthetic_tables`` f-I tables of a known LIF or MTC in the HH contract format;
* ``trends``     whether the analytic and fitted beta move the same way across conditions;
* ``settings``   the typed ``mapping:`` config section;
* ``stage``      the workflow's entry points: reference.json, {condition}.json, mappings.csv.
"""
