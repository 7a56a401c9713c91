"""The comparison stage's entry points, one per workflow rule (CSV + Markdown each).

``config`` is the full config or :func:`bridge.config.compare.compare_config_view` of it;
``conditions`` the condition names in the conditions table's order. Every CSV gets a
provenance sidecar, every Markdown file a provenance line; nothing carries a timestamp.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bridge import REPO_ROOT
from bridge.compare import markdown as md
from bridge.compare.claims import evaluate_claims
from bridge.compare.collect import GAP_COLUMNS, RUN_COLUMNS, collect_runs, read_table
from bridge.compare.comparisons import LAYER_RATE_PREFIX, stats_table
from bridge.compare.conditions import conditions_markdown, conditions_table
from bridge.compare.figures import plot_dose_response_beta, plot_dose_response_parameters
from bridge.compare.html import markdown_to_html
from bridge.compare.paper_tables import autoencoder_table, regressor_table
from bridge.compare.summary import summary_markdown
from bridge.config.compare import CompareSettings, compare_config_view, compare_settings
from bridge.io import atomic_path, write_csv
from bridge.paper_values import PaperRecords, load_paper_records
from bridge.provenance import provenance

LOG = logging.getLogger(__name__)
PathLike = str | Path


def _setup(config: Mapping[str, Any], conditions: Sequence[str]) -> tuple[CompareSettings, dict]:
    settings = compare_settings(config, conditions)
    prov = provenance({"compare": compare_config_view(config), "conditions": list(conditions)})
    return settings, prov


def _write_text(path: PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _write_document(text: str, title: str, md_path: PathLike, html_path: PathLike) -> None:
    """The Markdown document and its HTML copy (shown inline by the Snakemake report)."""
    _write_text(md_path, text)
    _write_text(html_path, markdown_to_html(text, title))


def _read_runs(runs_path: PathLike) -> pd.DataFrame:
    return read_table(runs_path, RUN_COLUMNS)


def collect(
    config: Mapping[str, Any],
    conditions: Sequence[str],
    results_dir: PathLike,
    runs_path: PathLike,
    gaps_path: PathLike,
) -> None:
    """``runs.csv`` and ``gaps.csv`` from every stage's files under ``results_dir``."""
    settings, prov = _setup(config, conditions)
    found = collect_runs(settings, results_dir)
    write_csv(runs_path, found.runs, prov)
    write_csv(gaps_path, found.gaps, prov)
    if len(found.gaps):
        LOG.warning("%d gap(s); see %s", len(found.gaps), gaps_path)


def write_conditions(
    config: Mapping[str, Any],
    conditions: Sequence[str],
    runs_path: PathLike,
    gaps_path: PathLike,
    csv_path: PathLike,
    md_path: PathLike,
    html_path: PathLike,
) -> pd.DataFrame:
    """``conditions.csv`` / ``.md`` / ``.html``: one row per condition."""
    settings, prov = _setup(config, conditions)
    table = conditions_table(_read_runs(runs_path), read_table(gaps_path, GAP_COLUMNS), settings)
    write_csv(csv_path, table, prov)
    text = conditions_markdown(table, settings, md.provenance_line(prov))
    _write_document(text, "Conditions across the pipeline", md_path, html_path)
    return table


def write_stats(
    config: Mapping[str, Any],
    conditions: Sequence[str],
    runs_path: PathLike,
    csv_path: PathLike,
    md_path: PathLike,
    html_path: PathLike,
) -> pd.DataFrame:
    """``stats.csv`` (every paired comparison), ``stats.md`` / ``.html`` (without per-layer
    rates)."""
    settings, prov = _setup(config, conditions)
    table = stats_table(_read_runs(runs_path), settings)
    write_csv(csv_path, table, prov)
    shown = table[~table["metric"].str.startswith(LAYER_RATE_PREFIX)]
    text = [
        "# Paired differences by seed (group − reference)",
        "",
        f"Mean difference, its {settings.confidence:.0%} t interval (n ≥ 2), Hedges' g_av "
        f"(n ≥ 2) and a paired t-test p-value only from n = {settings.min_n_p_value} on. "
        "Per-layer firing rates are in `stats.csv`.",
        "",
    ]
    for kind, rows in shown.groupby("kind", sort=False):
        text += [f"## {kind}", "", md.table(rows.drop(columns=["kind"])), ""]
    text += [md.provenance_line(prov), ""]
    _write_document("\n".join(text), "Paired differences by seed", md_path, html_path)
    return table


def _display_path(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (same text on any machine)."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _paper_markdown(title: str, paper: PaperRecords, table: pd.DataFrame, prov: dict) -> str:
    where = _display_path(paper.path)
    if paper.found:
        intro = (
            f"Published values from `{where}`; `source` says where in the paper each comes "
            "from. Empty cells: not in this run (see `gaps.csv`) or not defined."
        )
    else:
        intro = f"**No published values: `{where}` was not found.** The table is empty."
    return "\n".join(
        [
            f"# {title}",
            "",
            intro,
            "",
            md.table(table),
            "",
            md.provenance_line(prov),
            "",
        ]
    )


def write_paper_tables(
    config: Mapping[str, Any],
    conditions: Sequence[str],
    runs_path: PathLike,
    paper_autoencoder: PathLike,
    paper_regressor: PathLike,
    autoencoder_paths: Sequence[PathLike],
    regressor_paths: Sequence[PathLike],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paper-vs-ours tables; ``*_paths`` are (csv, md, html) each."""
    settings, prov = _setup(config, conditions)
    runs = _read_runs(runs_path)
    ae_paper = load_paper_records(paper_autoencoder, "autoencoder")
    reg_paper = load_paper_records(paper_regressor, "regressor")
    ae = autoencoder_table(runs, ae_paper, settings)
    reg = regressor_table(runs, reg_paper, settings)
    for table, paths, paper, title in (
        (ae, autoencoder_paths, ae_paper, "Autoencoder paper vs this run"),
        (reg, regressor_paths, reg_paper, "MTC paper vs this run"),
    ):
        csv_path, md_path, html_path = paths
        source = {"paper_values": _display_path(paper.path), "found": paper.found}
        write_csv(csv_path, table, {**prov, **source})
        _write_document(_paper_markdown(title, paper, table, prov), title, md_path, html_path)
    return ae, reg


def write_summary(
    config: Mapping[str, Any],
    conditions: Sequence[str],
    runs_path: PathLike,
    gaps_path: PathLike,
    paper_autoencoder: PathLike,
    paper_regressor: PathLike,
    claims_path: PathLike,
    summary_path: PathLike,
    summary_html_path: PathLike,
) -> pd.DataFrame:
    """``claims.csv``, ``results/summary.md`` and its HTML copy; returns the claims table."""
    settings, prov = _setup(config, conditions)
    runs = _read_runs(runs_path)
    gaps = read_table(gaps_path, GAP_COLUMNS)
    claims = evaluate_claims(runs, settings)
    write_csv(claims_path, claims, prov)
    text = summary_markdown(
        runs,
        gaps,
        conditions_table(runs, gaps, settings),
        claims,
        autoencoder_table(runs, load_paper_records(paper_autoencoder, "autoencoder"), settings),
        regressor_table(runs, load_paper_records(paper_regressor, "regressor"), settings),
        settings,
        prov,
    )
    _write_document(text, "Summary", summary_path, summary_html_path)
    LOG.info("claims: %s", claims["verdict"].value_counts().to_dict())
    return claims


def write_figures(
    config: Mapping[str, Any],
    conditions: Sequence[str],
    runs_path: PathLike,
    parameter_paths: Sequence[PathLike],
    beta_paths: Sequence[PathLike],
) -> None:
    """Dose-response figures against each varied defining parameter and against the mapped
    beta (PNG + SVG each)."""
    settings, _ = _setup(config, conditions)
    runs = _read_runs(runs_path)
    plot_dose_response_parameters(runs, settings, *parameter_paths)
    plot_dose_response_beta(runs, settings, *beta_paths)
