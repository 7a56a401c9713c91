"""Dose-response figures: which conditions go in which block and series, with intervals over
seeds (issue 15: a shifted row must not be stacked on the gNa axis at the control's gNa)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from bridge.compare.collect import collect_runs
from bridge.compare.conditions import DEFINING_COLUMNS, definitions_markdown
from bridge.compare.figures import (
    parameter_block,
    plot_dose_response_beta,
    plot_dose_response_parameters,
    varied_parameters,
)
from bridge.compare.stats import mean_interval
from bridge.config.compare import compare_settings
from tests.compare_fixtures import CONDITIONS, small_config, write_stage_outputs

RB = ("el_mV", "v_rest_target_mV")


def definitions(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Conditions over the HH defaults (el -54.3 mV, no rest target) with ``rows``' changes."""
    base = {name: None for name in DEFINING_COLUMNS}
    base.update(gnabar=0.12, gkbar=0.036, gl=0.0003, m_shift_mV=0.0, el_mV=-54.3)
    return pd.DataFrame([{"condition": c, **base, **edits} for c, edits in rows.items()])


def dose_grid() -> pd.DataFrame:
    """A small version of config/conditions_dose_response.tsv: gNa as is and re-balanced
    (el moved, rest target set), and an activation shift at the control's gNa."""
    return definitions({
        "control": {},
        "g_low": {"gnabar": 0.06},
        "g_high": {"gnabar": 0.25},
        "rb_low": {"gnabar": 0.06, "el_mV": -60.0, "v_rest_target_mV": -64.97},
        "rb_control": {"el_mV": -54.31, "v_rest_target_mV": -64.97},
        "rb_high": {"gnabar": 0.25, "el_mV": -50.0, "v_rest_target_mV": -64.97},
        "shift": {"m_shift_mV": -6.0},
    })  # fmt: skip


def test_varied_parameters_skip_constant_ones_and_the_rest_target() -> None:
    assert varied_parameters(dose_grid()) == ["gnabar", "m_shift_mV", "el_mV"]
    assert varied_parameters(definitions({"control": {}, "twin": {}})) == []


def test_blocks_separate_series_and_never_stack_a_shift_on_the_gna_axis() -> None:
    grid = dose_grid()
    gna = parameter_block(grid, "control", "gnabar")
    series = {s.label: s.conditions for s in gna.series}
    assert series == {
        "gnabar alone": ("control", "g_low", "g_high"),
        # rb_control has the control's gNa: it is no point of the gNa block.
        f"with {', '.join(RB)}": ("rb_low", "rb_high"),
    }
    shift = parameter_block(grid, "control", "m_shift_mV")
    assert {s.label: s.conditions for s in shift.series} == {
        "m_shift_mV alone": ("control", "shift")
    }
    leak = parameter_block(grid, "control", "el_mV")
    assert {s.label: s.conditions for s in leak.series} == {
        "el_mV alone": ("control",),
        "with gnabar, v_rest_target_mV": ("rb_low", "rb_high"),
        "with v_rest_target_mV": ("rb_control",),
    }


def test_mean_interval_is_the_t_interval_of_the_mean() -> None:
    stat = mean_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t_{0.975, 2} * sd 1 / sqrt(3)
    assert stat.mean == 2.0 and stat.n == 3
    assert stat.ci_low == pytest.approx(2.0 - half) and stat.ci_high == pytest.approx(2.0 + half)
    one = mean_interval([5.0])
    assert (one.mean, one.ci_low, one.ci_high) == (5.0, None, None)


def test_definitions_block_lists_varied_columns_and_the_shared_values() -> None:
    text = "\n".join(definitions_markdown(dose_grid(), "control"))
    header = text.splitlines()[0]
    assert "m_shift_mV" in header and "el_mV" in header and "v_rest_target_mV" in header
    assert "gkbar" not in header
    assert "Same for every condition: gkbar 0.036, gl 0.0003" in text
    shift = next(line for line in text.splitlines() if line.startswith("| shift"))
    assert shift.rstrip(" |").endswith("m_shift_mV -6")


def test_figure_puts_each_condition_in_its_parameters_block(tmp_path: Path) -> None:
    """Fixture runs with intermediate turned into an m-shift at the control's gNa: the gNa
    block draws control and hyperexcitable only, the shift block control and intermediate."""
    config = small_config()
    results = tmp_path / "results"
    write_stage_outputs(results, config)
    for condition, shift in (("control", 0.0), ("intermediate", -6.0), ("hyperexcitable", 0.0)):
        path = results / "hh" / condition / "summary.json"
        doc = json.loads(path.read_text())
        doc["params"]["m_shift_mV"] = shift
        if condition == "intermediate":
            doc["params"]["gnabar"] = 0.12
        path.write_text(json.dumps(doc))
    settings = compare_settings(config, CONDITIONS)
    runs = collect_runs(settings, results).runs
    out = tmp_path / "figures"
    counts = plot_dose_response_parameters(runs, settings, out / "p.png", out / "p.svg")
    ae_mse = "Autoencoder: test MSE, σ = 0"
    assert counts[f"gnabar: {ae_mse}"] == 2 and counts[f"m_shift_mV: {ae_mse}"] == 2
    # Regressor panels: one point per condition model.
    assert counts["m_shift_mV: Regressor: S_comm (one step)"] == 2 * 2
    assert not any(key.startswith(("gkbar", "gl:", "el_mV")) for key in counts)
    assert (out / "p.png").stat().st_size > 20_000 and (out / "p.svg").exists()
    beta = plot_dose_response_beta(runs, settings, out / "b.png")
    assert beta[f"beta_fit: {ae_mse}"] == len(CONDITIONS)
    # A condition without a fitted beta has no x: left out of that figure, not a crash.
    no_beta = (runs["stage"] == "mapping") & (runs["condition"] == "hyperexcitable")
    beta = plot_dose_response_beta(runs[~no_beta], settings, out / "b.png")
    assert beta[f"beta_fit: {ae_mse}"] == len(CONDITIONS) - 1
