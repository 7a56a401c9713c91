"""The comparison stage: every stage's per-run outputs met in one place, per condition.

Modules:

* ``paths``         where each stage's per-run file lives (the workflow lists these as inputs);
* ``collect``       reads every file into one long table (``runs.csv``) and every missing
                    file, key or value into ``gaps.csv`` (with a warning), never crashing;
* ``stats``         paired-by-seed differences: mean, t interval, Hedges' g_av, p (n >= 5);
* ``comparisons``   which pairs are compared (condition - control, scenario - benchmark,
                    model - model) and the statistics table;
* ``conditions``    one row per condition: HH features, mapped parameters, network metrics;
* ``paper_tables``  paper-vs-ours tables (published numbers: :mod:`bridge.paper_values`),
                    differences shown;
* ``claims``        the papers' claims judged by the rules in ``compare.claims``;
* ``summary``       ``results/summary.md``;
* ``markdown``      Markdown copies of the tables;
* ``stage``         the workflow's entry points (one per rule).

Its settings (the ``compare:`` section plus what the other sections say about which runs
exist) are :func:`bridge.config.compare.compare_settings`.

Its settings (the ``compare:`` section plus what the other sections say about which runs
exist) are :func:`bridge.config.compare.compare_settings`.

The package never imports torch, snntorch or NEURON: it runs in ``envs/analysis.yaml``.
"""
