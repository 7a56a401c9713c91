# Stage 1: HH cells in NEURON (+ the Brian2 twin as a cross-check), spike statistics, figure.


rule hh_mechanisms:
    """Compile hh_models/mod/*.mod with nrnivmodl (once per .mod content)."""
    input:
        mods=sorted(Path(workflow.basedir, "hh_models", "mod").glob("*.mod")),
    output:
        stamp="build/nrnmech/mod.sha256",
    log:
        "results/logs/hh_mechanisms.log",
    benchmark:
        "results/benchmarks/hh_mechanisms.tsv"
    conda:
        "../../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/hh_mechanisms.py"


rule hh_simulate:
    """NEURON: f-I steps (all amplitudes in one simulation), spontaneous and noisy runs."""
    input:
        # Not the conditions table: a new row must not re-run the other conditions (their
        # params, the Condition itself, re-run a condition whose row changes).
        mech=rules.hh_mechanisms.output.stamp,
    output:
        fi="results/hh/{condition}/fi_curve.csv",
        features="results/hh/{condition}/features.csv",
        summary="results/hh/{condition}/summary.json",
        traces="results/hh/{condition}/traces.npz",
        validation="results/hh/{condition}/validation.npz",
    log:
        "results/logs/hh_simulate/{condition}.log",
    benchmark:
        "results/benchmarks/hh_simulate/{condition}.tsv"
    conda:
        "../../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        condition=lambda wc: CONDITIONS[wc.condition],
        hh=config["hh"],
    script:
        "../scripts/hh_simulate.py"


rule hh_crosscheck:
    """Brian2 twin of the step protocol; fails when it disagrees with NEURON beyond tolerance."""
    input:
        fi="results/hh/{condition}/fi_curve.csv",
    output:
        crosscheck="results/hh/{condition}/crosscheck.csv",
    log:
        "results/logs/hh_crosscheck/{condition}.log",
    benchmark:
        "results/benchmarks/hh_crosscheck/{condition}.tsv"
    conda:
        "../../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        condition=lambda wc: CONDITIONS[wc.condition],
        hh=config["hh"],
    script:
        "../scripts/hh_crosscheck.py"


rule hh_figure:
    """The autoencoder paper's NEURON figure, for every condition."""
    input:
        summaries=expand(
            "results/hh/{condition}/summary.json", condition=CONDITION_NAMES
        ),
        traces=expand("results/hh/{condition}/traces.npz", condition=CONDITION_NAMES),
        fi=expand("results/hh/{condition}/fi_curve.csv", condition=CONDITION_NAMES),
    output:
        png=report(
            "results/hh/figures/hh_overview.png",
            caption="../report/hh_overview.rst",
            category="1. HH cells",
            subcategory="All conditions",
        ),
        svg="results/hh/figures/hh_overview.svg",
    log:
        "results/logs/hh_figure.log",
    benchmark:
        "results/benchmarks/hh_figure.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/hh_figure.py"


rule hh_all:
    """Everything of the HH stage (a target for tests and partial runs)."""
    input:
        hh_outputs(),
