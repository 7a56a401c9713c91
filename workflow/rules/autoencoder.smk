# Stage: spiking autoencoder (the hyperexcitability paper's protocol). One run per scenario x
# noise level x seed: the paper's scenarios that config lists, and cond_<condition> for every
# condition, whose only input is results/mapping/<condition>.json (adding a condition trains
# only that condition; a mapping with use_downstream false gives a run with status skipped).
# Then MSEl against the benchmark per scenario, its null comparison, tables and figures.
# Training rules request config["autoencoder"]["gpus"] through the SLURM executor plugin's
# `gpu` resource (--gpus=N; 0 requests none); a local run trains on CUDA when present, else CPU.
# A killed run resumes from checkpoint.pt beside its metrics (only the latest is kept). A run's
# parameters are only the config keys that change its numbers (training_section), so adding a
# noise level, seed or condition reruns nothing that exists.
# Offset arms (autoencoder.condition_offsets): cond_<condition> keeps the tutorial's trainable
# layer biases and BatchNorm shifts, cond_<condition>.frozen fixes them at 0; a frozen arm's
# MSEl reference is <benchmark>.frozen (the benchmark trained the same way), a paper rule run.

# Label arms (autoencoder.label_arm): cond_<condition>.label, beta = exp(-gnabar) (the paper's
# label mapping; gnabar from the conditions table, a rule param) with the benchmark's alpha,
# beta_syn and bias; no mapping file.
# Noise protocols (autoencoder.noise.protocols): the first one's runs keep the plain names;
# each other protocol trains every scenario again at the noisy sigmas as
# <scenario>.<sampling>_<target> (e.g. cond_control.per_step_clean), against the benchmark
# trained under the same protocol.

import re

from bridge.config.autoencoder import FROZEN_SUFFIX, LABEL_SUFFIX, PROTOCOL_TAGS

# The protocol suffix of a run's folder: none (the main noise protocol) or
# ".<sampling>_<target>".
AE_PROTOCOL_PATTERN = f"(?:\\.(?:{'|'.join(re.escape(tag) for tag in PROTOCOL_TAGS)}))?"
# The arm suffix of a condition run's folder: none (offsets trained) or ".frozen", then the
# protocol's.
AE_ARM_PATTERN = f"(?:{re.escape(FROZEN_SUFFIX)})?" + AE_PROTOCOL_PATTERN

if AE_MNIST is not None and AE_MNIST.missing and AE_DATA["download"]:

    # Fetch the missing MNIST IDX files (MD5-checked) once, before any training job.
    rule autoencoder_mnist_download:
        output:
            AE_MNIST.missing,
        log:
            "results/logs/autoencoder/mnist_download.log",
        localrule: True
        conda:
            "../../envs/training.yaml"
        threads: 1
        params:
            mnist_dir=AE_DATA["mnist_dir"],
        script:
            "../scripts/autoencoder_mnist_download.py"


rule autoencoder_paper_run:
    """Train one run of a paper scenario (its frozen decay constants from config), or of the
    frozen-offset benchmark (<benchmark>.frozen); either under an extra noise protocol too.
    """
    input:
        mnist=autoencoder_mnist_inputs,
    output:
        metrics=f"{AE_RUN_DIR}/metrics.json",
        features=f"{AE_RUN_DIR}/features.npz",
    log:
        "results/logs/autoencoder/{scenario}/sigma{sigma}/seed{seed}.log",
    benchmark:
        "results/benchmarks/autoencoder/{scenario}/sigma{sigma}/seed{seed}.tsv"
    wildcard_constraints:
        scenario="|".join(re.escape(name) for name in AE_PAPER_SCENARIOS),
        sigma=r"[0-9][0-9.e+-]*",
        seed=r"\d+",
    conda:
        "../../envs/training.yaml"
    threads: AUTOENCODER["threads"]
    resources:
        **AE_TRAIN_RESOURCES,
    params:
        scenario=lambda wc: wc.scenario,
        sigma=lambda wc: float(wc.sigma),
        seed=lambda wc: int(wc.seed),
        autoencoder=lambda wc: training_section(AUTOENCODER, wc.scenario),
        out_dir=lambda wc, output: str(Path(output.metrics).parent),
    script:
        "../scripts/autoencoder_train.py"


rule autoencoder_condition_run:
    """Train one run of a condition arm: its mapping's beta_fit, alpha_syn, beta_syn and
    bias_fit frozen, offsets trained (cond_<condition>) or frozen (cond_<condition>.frozen);
    or write a skipped run (mapping use_downstream false, or beta_unidentified excluded).
    """
    input:
        mapping="results/mapping/{condition}.json",
        mnist=autoencoder_mnist_inputs,
    output:
        metrics="results/autoencoder/cond_{condition}{arm}/sigma{sigma}/seed{seed}/metrics.json",
        features="results/autoencoder/cond_{condition}{arm}/sigma{sigma}/seed{seed}/features.npz",
    log:
        "results/logs/autoencoder/cond_{condition}{arm}/sigma{sigma}/seed{seed}.log",
    benchmark:
        "results/benchmarks/autoencoder/cond_{condition}{arm}/sigma{sigma}/seed{seed}.tsv"
    wildcard_constraints:
        # A condition name never holds a dot, so the frozen arm's suffix cannot be one.
        condition=r"[A-Za-z][A-Za-z0-9_-]*",
        arm=AE_ARM_PATTERN,
        sigma=r"[0-9][0-9.e+-]*",
        seed=r"\d+",
    conda:
        "../../envs/training.yaml"
    threads: AUTOENCODER["threads"]
    resources:
        **AE_TRAIN_RESOURCES,
    params:
        scenario=lambda wc: f"cond_{wc.condition}{wc.arm}",
        sigma=lambda wc: float(wc.sigma),
        seed=lambda wc: int(wc.seed),
        autoencoder=lambda wc: training_section(
            AUTOENCODER, f"cond_{wc.condition}{wc.arm}"
        ),
        out_dir=lambda wc, output: str(Path(output.metrics).parent),
    script:
        "../scripts/autoencoder_train.py"


rule autoencoder_label_run:
    """Train one run of a condition's label-mapping arm (cond_<condition>.label): every Leaky
    layer's beta = exp(-gnabar), the paper's label mapping of the condition's gnabar, and the
    benchmark scenario's alpha, beta_syn and bias; offsets trained. Needs no mapping file.
    """
    input:
        mnist=autoencoder_mnist_inputs,
    output:
        metrics=f"results/autoencoder/cond_{{condition}}{LABEL_SUFFIX}{{protocol}}/sigma{{sigma}}/seed{{seed}}/metrics.json",
        features=f"results/autoencoder/cond_{{condition}}{LABEL_SUFFIX}{{protocol}}/sigma{{sigma}}/seed{{seed}}/features.npz",
    log:
        f"results/logs/autoencoder/cond_{{condition}}{LABEL_SUFFIX}{{protocol}}/sigma{{sigma}}/seed{{seed}}.log",
    benchmark:
        f"results/benchmarks/autoencoder/cond_{{condition}}{LABEL_SUFFIX}{{protocol}}/sigma{{sigma}}/seed{{seed}}.tsv"
    wildcard_constraints:
        condition=r"[A-Za-z][A-Za-z0-9_-]*",
        protocol=AE_PROTOCOL_PATTERN,
        sigma=r"[0-9][0-9.e+-]*",
        seed=r"\d+",
    conda:
        "../../envs/training.yaml"
    threads: AUTOENCODER["threads"]
    resources:
        **AE_TRAIN_RESOURCES,
    params:
        scenario=lambda wc: f"cond_{wc.condition}{LABEL_SUFFIX}{wc.protocol}",
        sigma=lambda wc: float(wc.sigma),
        seed=lambda wc: int(wc.seed),
        autoencoder=lambda wc: label_training_section(
            AUTOENCODER,
            f"cond_{wc.condition}{LABEL_SUFFIX}{wc.protocol}",
            CONDITIONS[wc.condition].gnabar,
        ),
        out_dir=lambda wc, output: str(Path(output.metrics).parent),
    script:
        "../scripts/autoencoder_train.py"


rule autoencoder_msel:
    """MSEl per layer of one scenario against the benchmark, at every noise level and seed."""
    input:
        features=lambda wc: [
            autoencoder_run_file(r, "features.npz")
            for r in _ae_comparisons(wc.scenario)
        ],
        reference=lambda wc: [
            autoencoder_run_file(_ae_benchmark_run(r), "features.npz")
            for r in _ae_comparisons(wc.scenario)
        ],
    output:
        msel="results/autoencoder/msel/{scenario}.json",
    log:
        "results/logs/autoencoder/msel/{scenario}.log",
    benchmark:
        "results/benchmarks/autoencoder/msel/{scenario}.tsv"
    wildcard_constraints:
        scenario="|".join(re.escape(name) for name in AE_COMPARED),
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        kind="scenario",
        identities=lambda wc: [
            dict(
                scenario=r.scenario,
                reference=_ae_benchmark_run(r).scenario,
                sigma=r.sigma,
                seed=r.seed,
                reference_seed=r.seed,
            )
            for r in _ae_comparisons(wc.scenario)
        ],
    script:
        "../scripts/autoencoder_msel.py"


rule autoencoder_msel_null:
    """MSEl null comparison: the benchmark against itself at every pair of seeds."""
    input:
        features=[
            autoencoder_run_file(RunKey(AE_BENCHMARK, sigma, b), "features.npz")
            for sigma, a, b in null_pairs(AUTOENCODER)
        ],
        reference=[
            autoencoder_run_file(RunKey(AE_BENCHMARK, sigma, a), "features.npz")
            for sigma, a, b in null_pairs(AUTOENCODER)
        ],
    output:
        msel="results/autoencoder/msel/null.json",
    log:
        "results/logs/autoencoder/msel/null.log",
    benchmark:
        "results/benchmarks/autoencoder/msel/null.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        kind="seed_pair",
        identities=[
            dict(
                scenario=AE_BENCHMARK,
                reference=AE_BENCHMARK,
                sigma=sigma,
                seed=b,
                reference_seed=a,
            )
            for sigma, a, b in null_pairs(AUTOENCODER)
        ],
    script:
        "../scripts/autoencoder_msel.py"


rule autoencoder_summary:
    """runs.csv (every run), table2.csv (ours vs the paper's Table 2), msel.csv."""
    input:
        metrics=autoencoder_run_metrics(),
        msel=autoencoder_msel_files(),
        paper_values=PAPER_VALUES["autoencoder"],
    output:
        runs=report(
            "results/autoencoder/summary/runs.csv",
            caption="../report/autoencoder_runs.rst",
            category="3. Autoencoder",
            subcategory="All conditions",
        ),
        table2=report(
            "results/autoencoder/summary/table2.csv",
            caption="../report/autoencoder_table2_csv.rst",
            category="3. Autoencoder",
            subcategory="All conditions",
        ),
        msel=report(
            "results/autoencoder/summary/msel.csv",
            caption="../report/autoencoder_msel.rst",
            category="3. Autoencoder",
            subcategory="All conditions",
        ),
    log:
        "results/logs/autoencoder/summary.log",
    benchmark:
        "results/benchmarks/autoencoder/summary.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        autoencoder=AUTOENCODER,
        conditions=CONDITION_NAMES,
    script:
        "../scripts/autoencoder_summary.py"


rule autoencoder_figures:
    """Table 2, layer rates, network rate, conditions, MSE vs noise, reconstructions."""
    input:
        metrics=autoencoder_run_metrics(),
        features=autoencoder_run_features(),
        runs=rules.autoencoder_summary.output.runs,
        table2=rules.autoencoder_summary.output.table2,
        paper_values=PAPER_VALUES["autoencoder"],
    output:
        **{
            f"{name}_png": report(
                f"results/autoencoder/figures/{name}.png",
                caption=f"../report/autoencoder_{name}.rst",
                category="3. Autoencoder",
                subcategory="All conditions",
            )
            for name in AE_FIGURES
        },
        **{
            f"{name}_svg": f"results/autoencoder/figures/{name}.svg"
            for name in AE_FIGURES
        },
    log:
        "results/logs/autoencoder/figures.log",
    benchmark:
        "results/benchmarks/autoencoder/figures.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        autoencoder=AUTOENCODER,
        conditions=CONDITION_NAMES,
        names=AE_FIGURES,
    script:
        "../scripts/autoencoder_figures.py"


rule autoencoder_all:
    """Everything of the autoencoder stage (needs results/mapping/{condition}.json)."""
    input:
        autoencoder_outputs(),
