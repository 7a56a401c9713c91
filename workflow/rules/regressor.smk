# Stage: Mackey-Glass regressor. Per seed, the trained arms (MTC, LIF and AdLIF training their
# neuron parameters, as the MTC paper ran them; condition label "reference"), and MTC and LIF
# networks per condition with the condition's mapped neuron parameters frozen ("what does the
# channelopathy do", read beside the trained arm of the same model); medians and figures.
# Training rules request config["regressor"]["gpus"] through the SLURM executor plugin's
# `gpu` resource (--gpus=N; 0 requests none); a local run ignores it and trains on the CPU
# unless CUDA is present (regressor.device: auto).

# The training rules' params (and their provenance) leave out paper_values: the published
# numbers are read by regressor_summary and the compare stage, never by a training run.
REGRESSOR = {k: v for k, v in config["regressor"].items() if k != "paper_values"}
# A repository data file: a relative path is relative to the repository, not the working folder.
REGRESSOR_TRAIN_RESOURCES = dict(
    mem_mb=REGRESSOR["mem_mb"],
    runtime=REGRESSOR["runtime_min"],
    gpu=REGRESSOR["gpus"],
)


rule regressor_condition:
    """Train one MTC or LIF regressor with a condition's mapped, frozen neuron parameters."""
    input:
        mapping="results/mapping/{condition}.json",
    output:
        metrics="results/regressor/{condition}/{model}/seed{seed}/metrics.json",
        predictions="results/regressor/{condition}/{model}/seed{seed}/predictions.npz",
    log:
        "results/logs/regressor/{condition}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/regressor/{condition}/{model}/seed{seed}.tsv"
    wildcard_constraints:
        model="|".join(CONDITION_MODELS),
        seed=r"\d+",
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        **REGRESSOR_TRAIN_RESOURCES,
    params:
        model=lambda wc: wc.model,
        seed=lambda wc: int(wc.seed),
        regressor=REGRESSOR,
        out_dir=lambda wc, output: str(Path(output.metrics).parent),
    script:
        "../scripts/regressor_train.py"


rule regressor_reference:
    """Train one trained arm (no condition mapping; the model's neuron parameters train from
    regressor.mtc.reference_preset / regressor.lif.reference_beta / AdLIF's ranges, as set in
    regressor.trained) for one seed."""
    output:
        metrics=f"results/regressor/{REGRESSOR_REFERENCE_LABEL}/{{model}}/seed{{seed}}/metrics.json",
        predictions=f"results/regressor/{REGRESSOR_REFERENCE_LABEL}/{{model}}/seed{{seed}}/predictions.npz",
    log:
        f"results/logs/regressor/{REGRESSOR_REFERENCE_LABEL}/{{model}}/seed{{seed}}.log",
    benchmark:
        f"results/benchmarks/regressor/{REGRESSOR_REFERENCE_LABEL}/{{model}}/seed{{seed}}.tsv"
    wildcard_constraints:
        model="|".join(MODEL_NAMES),
        seed=r"\d+",
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        **REGRESSOR_TRAIN_RESOURCES,
    params:
        model=lambda wc: wc.model,
        seed=lambda wc: int(wc.seed),
        regressor=REGRESSOR,
        out_dir=lambda wc, output: str(Path(output.metrics).parent),
    script:
        "../scripts/regressor_train.py"


rule regressor_regimes:
    """The MTC neuron's firing regimes (tonic, phasic, bursting presets) as voltage traces."""
    output:
        png=report(
            "results/regressor/figures/mtc_regimes.png",
            caption="../report/regressor_regimes.rst",
            category="4. Regressor",
            subcategory="All conditions",
        ),
        svg="results/regressor/figures/mtc_regimes.svg",
    log:
        "results/logs/regressor/regimes.log",
    benchmark:
        "results/benchmarks/regressor/regimes.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/regressor_regimes.py"


rule regressor_summary:
    """Medians over seeds beside the MTC paper's; predictions and accuracy-vs-sparsity figures."""
    input:
        metrics=regressor_run_metrics(),
        # The paper's published numbers (one data file, a citation per number).
        paper_values=PAPER_VALUES["regressor"],
    output:
        table=report(
            "results/regressor/summary/summary.csv",
            caption="../report/regressor_summary.rst",
            category="4. Regressor",
            subcategory="All conditions",
        ),
        predictions_png=report(
            "results/regressor/figures/predictions.png",
            caption="../report/regressor_predictions.rst",
            category="4. Regressor",
            subcategory="All conditions",
        ),
        predictions_svg="results/regressor/figures/predictions.svg",
        sparsity_png=report(
            "results/regressor/figures/accuracy_vs_sparsity.png",
            caption="../report/regressor_sparsity.rst",
            category="4. Regressor",
            subcategory="All conditions",
        ),
        sparsity_svg="results/regressor/figures/accuracy_vs_sparsity.svg",
    log:
        "results/logs/regressor/summary.log",
    benchmark:
        "results/benchmarks/regressor/summary.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        conditions=CONDITION_NAMES,
        trace_seed=REGRESSOR["seeds"][0],
        regressor=REGRESSOR,
    script:
        "../scripts/regressor_summary.py"


rule regressor_all:
    """Everything of the regressor stage (needs results/mapping/{condition}.json)."""
    input:
        regressor_outputs(),
