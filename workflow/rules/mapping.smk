# Stage 2: HH spike statistics -> LIF (beta, bias) and MTC (gains, drive) parameters per
# condition. Input gains are fitted once on the reference condition and then held fixed.
# Software: torch (the MTC neuron; bridge.neurons also imports snntorch), scipy, pandas,
# matplotlib -- the training stack, no NEURON.

REFERENCE_CONDITION = config["mapping"]["reference_condition"]
if REFERENCE_CONDITION not in CONDITIONS:
    raise ValueError(
        f"config key 'mapping.reference_condition': {REFERENCE_CONDITION!r} is not a row of "
        f"{config['conditions']} (conditions: {CONDITION_NAMES})"
    )
if "reference" in CONDITIONS:
    raise ValueError(
        f"{config['conditions']}: a condition may not be named 'reference' "
        "(results/mapping/reference.json holds the reference fit)"
    )


rule mapping_reference:
    """Input gains on the reference condition: the LIF's w, the MTC's input scale/offset and slow gain."""
    input:
        fi=f"results/hh/{REFERENCE_CONDITION}/fi_curve.csv",
        summary=f"results/hh/{REFERENCE_CONDITION}/summary.json",
    output:
        reference="results/mapping/reference.json",
    log:
        "results/logs/mapping_reference.log",
    benchmark:
        "results/benchmarks/mapping_reference.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        hh=config["hh"],
        mapping=config["mapping"],
    script:
        "../scripts/mapping_reference.py"


rule mapping_condition:
    """LIF beta/bias and MTC a_fast/i_bias of one condition, reference gains held fixed."""
    input:
        fi="results/hh/{condition}/fi_curve.csv",
        summary="results/hh/{condition}/summary.json",
        validation="results/hh/{condition}/validation.npz",
        reference=rules.mapping_reference.output.reference,
    output:
        mapping="results/mapping/{condition}.json",
        validation_png=report(
            "results/mapping/figures/validation_{condition}.png",
            caption="../report/mapping_validation.rst",
            category="2. Mappings",
            subcategory="Spike-timing validation",
        ),
        validation_svg="results/mapping/figures/validation_{condition}.svg",
    log:
        "results/logs/mapping_condition/{condition}.log",
    benchmark:
        "results/benchmarks/mapping_condition/{condition}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        hh=config["hh"],
        mapping=config["mapping"],
    script:
        "../scripts/mapping_condition.py"


rule mapping_nir:
    """A usable LIF mapping as a NIR graph (lif.nir) and its export.json; no graph otherwise."""
    input:
        mapping="results/mapping/{condition}.json",
    output:
        nir=directory("results/mapping/nir/{condition}"),
    log:
        "results/logs/mapping_nir/{condition}.log",
    benchmark:
        "results/benchmarks/mapping_nir/{condition}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/mapping_nir.py"


rule mapping_collect:
    """mappings.csv across conditions, trend summary, f-I overlay and parameter-curve figures."""
    input:
        mappings=expand("results/mapping/{condition}.json", condition=CONDITION_NAMES),
    output:
        table=report(
            "results/mapping/mappings.csv",
            caption="../report/mapping_table.rst",
            category="2. Mappings",
            subcategory="All conditions",
        ),
        summary="results/mapping/summary.json",
        fi_png=report(
            "results/mapping/figures/mapping_fi.png",
            caption="../report/mapping_fi.rst",
            category="2. Mappings",
            subcategory="All conditions",
        ),
        fi_svg="results/mapping/figures/mapping_fi.svg",
        curves_png=report(
            "results/mapping/figures/mapping_curves.png",
            caption="../report/mapping_curves.rst",
            category="2. Mappings",
            subcategory="All conditions",
        ),
        curves_svg="results/mapping/figures/mapping_curves.svg",
    log:
        "results/logs/mapping_collect.log",
    benchmark:
        "results/benchmarks/mapping_collect.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/mapping_collect.py"


rule mapping_all:
    """Everything of the mapping stage (a target for tests and partial runs)."""
    input:
        mapping_outputs(),
