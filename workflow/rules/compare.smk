# Stage 5: every stage's per-run outputs met in one place (bridge/compare/). Inputs are all
# per-condition and per-run files the config implies, so a new condition, seed or noise level
# re-runs the comparison (and its own upstream runs) and nothing else. Software: pandas,
# scipy, matplotlib (envs/analysis.yaml); no torch.
rule compare_collect:
    """One long table of every stage's values (runs.csv) and of every gap (gaps.csv)."""
    input:
        **COMPARE_INPUTS,
    output:
        runs="results/compare/runs.csv",
        gaps="results/compare/gaps.csv",
    log:
        "results/logs/compare/collect.log",
    benchmark:
        "results/benchmarks/compare/collect.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        **COMPARE_RESOURCES,
    params:
        compare=COMPARE_CONFIG,
        conditions=CONDITION_NAMES,
        # results/compare/runs.csv -> results
        results_dir=lambda wc, output: str(Path(output.runs).parents[1]),
    script:
        "../scripts/compare_collect.py"


rule compare_conditions:
    """One row per condition: HH features, mapped parameters, network metrics."""
    input:
        runs=rules.compare_collect.output.runs,
        gaps=rules.compare_collect.output.gaps,
    output:
        csv="results/compare/conditions.csv",
        md="results/compare/conditions.md",
        html=report(
            "results/compare/conditions.html",
            caption="../report/compare_conditions.rst",
            category="5. Compare",
            subcategory=COMPARE_SUB,
            labels={"type": "table", "content": "conditions"},
        ),
    log:
        "results/logs/compare/conditions.log",
    benchmark:
        "results/benchmarks/compare/conditions.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        **COMPARE_RESOURCES,
    params:
        compare=COMPARE_CONFIG,
        conditions=CONDITION_NAMES,
    script:
        "../scripts/compare_conditions.py"


rule compare_stats:
    """Paired-by-seed differences: condition - control, scenario - benchmark, model - model."""
    input:
        runs=rules.compare_collect.output.runs,
    output:
        csv="results/compare/stats.csv",
        md="results/compare/stats.md",
        html=report(
            "results/compare/stats.html",
            caption="../report/compare_stats.rst",
            category="5. Compare",
            subcategory=COMPARE_SUB,
            labels={"type": "table", "content": "paired statistics"},
        ),
    log:
        "results/logs/compare/stats.log",
    benchmark:
        "results/benchmarks/compare/stats.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        **COMPARE_RESOURCES,
    params:
        compare=COMPARE_CONFIG,
        conditions=CONDITION_NAMES,
    script:
        "../scripts/compare_stats.py"


rule compare_paper:
    """Both papers' published numbers beside this run's, differences shown."""
    input:
        runs=rules.compare_collect.output.runs,
        paper_autoencoder=PAPER_VALUES["autoencoder"],
        paper_regressor=PAPER_VALUES["regressor"],
    output:
        ae_csv="results/compare/paper_vs_ours_autoencoder.csv",
        ae_md="results/compare/paper_vs_ours_autoencoder.md",
        ae_html=report(
            "results/compare/paper_vs_ours_autoencoder.html",
            caption="../report/compare_paper_autoencoder.rst",
            category="5. Compare",
            subcategory=COMPARE_SUB,
            labels={"type": "table", "content": "autoencoder paper vs ours"},
        ),
        reg_csv="results/compare/paper_vs_ours_regressor.csv",
        reg_md="results/compare/paper_vs_ours_regressor.md",
        reg_html=report(
            "results/compare/paper_vs_ours_regressor.html",
            caption="../report/compare_paper_regressor.rst",
            category="5. Compare",
            subcategory=COMPARE_SUB,
            labels={"type": "table", "content": "MTC paper vs ours"},
        ),
    log:
        "results/logs/compare/paper.log",
    benchmark:
        "results/benchmarks/compare/paper.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        **COMPARE_RESOURCES,
    params:
        compare=COMPARE_CONFIG,
        conditions=CONDITION_NAMES,
    script:
        "../scripts/compare_paper.py"


rule compare_summary:
    """The papers' claims judged on this run (claims.csv) and results/summary.md."""
    input:
        runs=rules.compare_collect.output.runs,
        gaps=rules.compare_collect.output.gaps,
        paper_autoencoder=PAPER_VALUES["autoencoder"],
        paper_regressor=PAPER_VALUES["regressor"],
    output:
        claims="results/compare/claims.csv",
        summary="results/summary.md",
        html=report(
            "results/compare/summary.html",
            caption="../report/compare_summary.rst",
            category="5. Compare",
            subcategory=COMPARE_SUB,
            labels={"type": "summary", "content": "claims, verdicts, baselines, gaps"},
        ),
    log:
        "results/logs/compare/summary.log",
    benchmark:
        "results/benchmarks/compare/summary.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        **COMPARE_RESOURCES,
    params:
        compare=COMPARE_CONFIG,
        conditions=CONDITION_NAMES,
    script:
        "../scripts/compare_summary.py"


rule compare_figures:
    """Dose-response: every network metric against each varied condition parameter and
    against the mapped beta."""
    input:
        runs=rules.compare_collect.output.runs,
    output:
        parameters_png=report(
            "results/compare/figures/dose_response_parameters.png",
            caption="../report/compare_dose_response.rst",
            category="5. Compare",
            subcategory=COMPARE_SUB,
            labels={"type": "figure", "content": "dose-response vs varied parameters"},
        ),
        parameters_svg="results/compare/figures/dose_response_parameters.svg",
        beta_png=report(
            "results/compare/figures/dose_response_beta.png",
            caption="../report/compare_dose_response.rst",
            category="5. Compare",
            subcategory=COMPARE_SUB,
            labels={"type": "figure", "content": "dose-response vs mapped beta"},
        ),
        beta_svg="results/compare/figures/dose_response_beta.svg",
    log:
        "results/logs/compare/figures.log",
    benchmark:
        "results/benchmarks/compare/figures.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        **COMPARE_RESOURCES,
    params:
        compare=COMPARE_CONFIG,
        conditions=CONDITION_NAMES,
    script:
        "../scripts/compare_figures.py"


rule compare_all:
    """Everything of the comparison stage (needs every stage's per-run files)."""
    input:
        compare_outputs(),
