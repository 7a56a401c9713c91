"""Mapping statuses from real NEURON cells: never_fires, block_at_rest, onset_only (LIF never
usable; MTC only when its fit fires onset spikes too), param_at_bound and poor_fit.

The HH stage runs each cell on a short protocol (100 ms steps); the LIF and MTC fits are the
production code on coarse grids (statuses, not accuracy, are under test).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from bridge.config import Condition, MappingConfig, load_config
from bridge.contracts import read_fi_curve, read_hh_summary
from bridge.hh.stage import run_condition
from bridge.mapping import search
from bridge.mapping.lif import fit_lif_condition, fit_reference
from bridge.mapping.mtc import MtcInputMap, fit_mtc_condition, fit_mtc_reference
from bridge.mapping.objective import (
    FitTargets,
    StepWindow,
    fit_targets,
    onset_only_reproduced,
)
from tests.hh_helpers import shorten_validation

#: MTC time unit and Euler step of the short protocol (whole numbers of 0.2 ms steps)
UNIT_MS, MTC_DT = 0.2, 1.0
CELLS = {
    "control": (0.12, 0.036),
    "no_sodium": (0.0, 0.036),
    "onset_only": (0.07, 0.036),
    "block_at_rest": (5.0, 0.036),
}


@pytest.fixture(scope="module")
def config(repo_root: Path) -> dict:
    cfg = copy.deepcopy(load_config([repo_root / "config" / "config.yaml"]))
    hh = cfg["hh"]
    hh["steps"].update(
        delay_ms=20.0,
        duration_ms=100.0,
        after_ms=10.0,
        amp_segments_uA_cm2=[[-2.0, 14.0, 2.0], [20.0, 100.0, 20.0]],
    )
    hh["spontaneous"]["duration_ms"] = 100.0
    hh["noise"]["duration_ms"] = 100.0
    hh["block"]["window_ms"] = 50.0
    shorten_validation(hh, 100.0, 10.0, [[5.0, 3.0]])
    m = cfg["mapping"]
    m["mtc_time_unit_ms"] = UNIT_MS
    m["mtc"]["dt"] = MTC_DT
    m["lif"].update(start_grid_points=7, n_starts=1)
    m["lif"]["profile"].update(points=9, zoom_rounds=2, edge_bisections=2)
    m["mtc"]["grid"].update(a_fast_points=4, a_slow_pos_points=3, input_scale_points=4)
    m["mtc"]["grid"]["onset_points"] = 2
    m["mtc"]["search"]["n_starts"] = 1
    m["mtc"]["search"]["resolution"].update(a_fast=0.05, onset_spacings=0.5)
    m["mtc"]["profile"]["edge_bisections"] = 1
    return cfg


@pytest.fixture(scope="module")
def hh(config: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """fi_curve.csv and summary.json of every cell, from the HH stage (NEURON)."""
    out = {}
    for name, (gnabar, gkbar) in CELLS.items():
        folder = tmp_path_factory.mktemp(name)
        run_condition(Condition(name, gnabar, gkbar, 0.0003), config["hh"], folder)
        fi = read_fi_curve(folder / "fi_curve.csv", columns=())
        out[name] = (fi, read_hh_summary(folder / "summary.json").to_dict())
    return out


@pytest.fixture(scope="module")
def window(config: dict) -> StepWindow:
    steps = config["hh"]["steps"]
    return StepWindow(steps["delay_ms"], steps["duration_ms"], 100.0)


def mapping(config: dict, **changes: dict) -> MappingConfig:
    section = copy.deepcopy(config["mapping"])
    for key, values in changes.items():
        section[key].update(values)
    return MappingConfig.from_config(section, "mapping")


@pytest.fixture(scope="module")
def reference(config: dict, hh: dict, window: StepWindow) -> tuple[float, MtcInputMap]:
    """The control cell's input gains (LIF w, MTC input map), as the stage fits them."""
    fi, summary = hh["control"]
    cfg = mapping(config)
    lif = fit_reference(fi, summary, cfg, window=window)
    mtc = fit_mtc_reference(fi, summary, cfg, window=window)
    return lif.w_per_nA, MtcInputMap.from_reference(mtc.to_dict(), "control")


def lif_fit(name, config, hh, window, reference, **changes) -> dict:
    fi, summary = hh[name]
    cfg = mapping(config, **changes)
    return fit_lif_condition(fi, summary, cfg, reference[0], window=window).to_dict()


def mtc_fit(name, config, hh, window, reference) -> dict:
    fi, summary = hh[name]
    return fit_mtc_condition(fi, summary, mapping(config), reference[1], window=window).to_dict()


def test_hh_cells_have_their_statuses(hh: dict) -> None:
    found = {name: hh[name][1]["excitability"] for name in CELLS}
    assert found == {
        "control": "silent_at_rest",
        "no_sodium": "never_fires",
        "onset_only": "onset_only",
        "block_at_rest": "block_at_rest",
    }
    # the cell without sodium crosses -20 mV passively at 100 uA/cm2: no spike
    assert hh["no_sodium"][1]["spike_detection"]["n_rejected_crossings"]["steps"] >= 1


@pytest.mark.parametrize("name", ["no_sodium", "block_at_rest", "onset_only"])
def test_cells_that_no_lif_describes_are_not_used(name, config, hh, window, reference) -> None:
    expected = {"no_sodium": "never_fires"}.get(name, name)
    lif = lif_fit(name, config, hh, window, reference)
    mtc = mtc_fit(name, config, hh, window, reference)
    assert lif["status"] == expected and lif["use_downstream"] is False
    assert expected in lif["status_rules"] and expected in lif["status_flags"]
    if name != "onset_only":
        assert mtc["status"] == expected and mtc["use_downstream"] is False
        return
    # an MTC can fire onset spikes only (rest stable, one excursion): usable only if its fit
    # does so on the HH cell's sweeps
    fi, summary = hh[name]
    targets = fit_targets(fi, summary, mapping(config).objective, window)
    res = mtc["residuals"]
    reproduced = onset_only_reproduced(
        targets, np.asarray(res["rate_mtc_hz"]), res["spontaneous_rate_mtc_hz"]
    )
    assert mtc["status"] == ("onset_only_reproduced" if reproduced else "onset_only")
    assert mtc["use_downstream"] is reproduced


def test_a_parameter_on_its_search_bound_is_flagged(config, hh, window, reference) -> None:
    # the control cell's tau is ~3 ms: with tau capped at 1 ms the fit sits on the cap
    lif = lif_fit("control", config, hh, window, reference, lif={"tau_bounds_ms": [0.25, 1.0]})
    assert {"parameter": "tau_ms", "side": "high", "bound": pytest.approx(1.0)} in lif["at_bound"]
    assert lif["tau_fit_ms"] == pytest.approx(1.0)
    assert "param_at_bound" in lif["status_flags"]
    free = lif_fit("control", config, hh, window, reference)
    assert all(b["parameter"] != "tau_ms" for b in free["at_bound"])


def test_poor_fit_rule_and_switch(config, hh, window, reference) -> None:
    lif = lif_fit("control", config, hh, window, reference)
    mtc = mtc_fit("control", config, hh, window, reference)
    for record in (lif, mtc):
        n = record["fit_data"]["n_points"]
        assert record["objective_per_point"] == pytest.approx(record["objective"] / n)
        assert "poor_fit" not in record["status_flags"]
    limit = 0.5 * lif["objective_per_point"]
    strict = lif_fit(
        "control", config, hh, window, reference, goodness_of_fit={"max_objective_per_point": limit}
    )
    assert strict["status"] == "poor_fit" and strict["use_downstream"] is False
    kept = lif_fit(
        "control",
        config,
        hh,
        window,
        reference,
        goodness_of_fit={"max_objective_per_point": limit, "use_poor_fits": True},
    )
    assert kept["status"] == "poor_fit" and kept["use_downstream"] is True


def test_at_bound_reads_log_coordinates_and_both_sides() -> None:
    lower, upper = np.array([np.log(0.5), -4.0, 0.0]), np.array([np.log(50.0), -1.1, 1.0])
    z = np.array([np.log(50.0), -4.0, 0.5])
    found = search.at_bound(z, lower, upper, ["ln_tau_ms", "a_fast", "onset_nA"])
    assert found == [
        {"parameter": "tau_ms", "side": "high", "bound": pytest.approx(50.0)},
        {"parameter": "a_fast", "side": "low", "bound": -4.0},
    ]
    assert search.at_bound(np.array([0.1, -2.0, 0.5]), lower, upper, ["a", "b", "c"]) == []


def test_onset_only_reproduction_rule(config, hh, window) -> None:
    fi, summary = hh["onset_only"]
    targets: FitTargets = fit_targets(fi, summary, mapping(config).objective, window)
    hz_per_spike = 1000.0 / window.duration_ms
    one_spike = np.where(targets.spike_count > 0, hz_per_spike, 0.0)
    assert onset_only_reproduced(targets, one_spike, 0.0)
    assert not onset_only_reproduced(targets, one_spike, 5.0)  # fires at rest
    assert not onset_only_reproduced(targets, 3 * one_spike, 0.0)  # repetitive
    assert not onset_only_reproduced(targets, np.zeros_like(one_spike), 0.0)  # silent
