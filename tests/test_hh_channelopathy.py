"""hhx's channelopathy columns in real NEURON: slope and time-constant factors, the K shift and
the mutant-allele fraction (wild-type and mutant Na side by side), and their validation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bridge.config import ConfigError, load_conditions, load_config
from bridge.hh.features import rheobase_single
from hh_models.params import (
    H_PIVOT_mV,
    HHParams,
    M_PIVOT_mV,
    StepProtocol,
    params_from_condition,
    rates,
    rebalanced_el,
    steady_state_currents,
)
from hh_models.protocols import run_steps

REPO = Path(__file__).resolve().parents[1]
THRESHOLD_mV = -20.0
STORE_DT_ms = 0.1
HH_CFG = {"celsius": 6.3, "cm_uF_cm2": 1.0, "area_um2": 100.0}
SHORT = {"delay_ms": 20.0, "duration_ms": 200.0, "after_ms": 20.0}
#: Amplitudes (uA/cm2) around the control rheobase (~2.5); negative ones catch cells that a
#: gain of function makes fire on their own.
RHEOBASE_AMPS = tuple(float(a) for a in np.round(np.arange(-6.0, 12.01, 0.5), 2))
HEADER = "name\tgnabar\tgkbar\tgl\t{column}\n"
#: Spike times (ms) of two runs that must be the same trajectory up to rounding of sums
#: (a split conductance g*(1-f) + g*f instead of g).
SAME_TRAJECTORY_ATOL_ms = 1e-6


def control(**changes: float | None) -> HHParams:
    return HHParams(**{"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, **changes})


def steps(params: HHParams, amps: tuple[float, ...], mechanism: str | None = None):
    return run_steps(params, StepProtocol(amps, **SHORT), THRESHOLD_mV, STORE_DT_ms, mechanism)


#: Rheobase comparisons re-balance the leak so every cell rests here (mV): a gain of function
#: with el kept fires on its own and has no rheobase.
REST_mV = -65.0


def rheobase(params: HHParams, amps: tuple[float, ...] = RHEOBASE_AMPS) -> float:
    """Single-spike rheobase (uA/cm2) of the cell with its leak re-balanced to REST_mV."""
    el = rebalanced_el(params, REST_mV)
    params = replace(params, el_mV=el, v_rest_target_mV=REST_mV)
    found = rheobase_single(steps(params, amps)).amp_uA_cm2
    assert found is not None, params
    return float(found)


def assert_same_spikes(a, b, atol_ms: float) -> None:
    assert sum(s.size for s in a.spike_times_ms) > 10
    for x, y in zip(a.spike_times_ms, b.spike_times_ms, strict=True):
        assert x.size == y.size
        np.testing.assert_allclose(x, y, rtol=0, atol=atol_ms)


def test_default_row_f_i_curve_unchanged() -> None:
    """The control row with every new column at its default: hhx (forced) gives hh's f-I
    curve to the last bit, and the cell still picks the built-in hh."""
    (row,) = [c for c in load_conditions(REPO / "config" / "conditions.tsv") if c.name == "control"]
    params = params_from_condition(row, HH_CFG)
    assert params.uses_builtin_hh and not row.needs_custom_mechanism
    amps = (0.0, 3.0, 6.5, 10.0, 40.0)
    hh = steps(params, amps, mechanism="hh")
    hhx = steps(params, amps, mechanism="hhx")
    assert_same_spikes(hh, hhx, atol_ms=0.0)
    np.testing.assert_array_equal(hh.v_full_mV, hhx.v_full_mV)


def test_activation_shift_minus_10_lowers_rheobase() -> None:
    assert rheobase(control(m_shift_mV=-10.0)) < rheobase(control()) - 1.0


def test_k_activation_shift_moves_rheobase() -> None:
    """K opening at higher V (+ shift) leaves less K current near threshold: fires earlier;
    the opposite shift needs more current."""
    base = rheobase(control())
    assert rheobase(control(n_shift_mV=5.0)) < base
    assert rheobase(control(n_shift_mV=-5.0)) > base


def _gates_at(params: HHParams, v_mV: float) -> dict[str, float]:
    from neuron import h

    from hh_models.cell import build_cell

    cell = build_cell(params, mechanism="hhx")
    h.finitialize(v_mV)
    mech = cell.segment.hhx
    return {
        name: float(getattr(mech, name))
        for name in ("minf", "hinf", "ninf", "mtau", "htau", "ntau", "mwinf", "hwinf")
    }


def test_slope_factor_stretches_the_gate_about_its_midpoint() -> None:
    """At the (shifted) midpoint m-inf stays 1/2; 10 mV below it a shallower curve (factor 2)
    is open as much as the default curve 5 mV below its midpoint. Integer potentials are the
    rate table's nodes, so NEURON matches the formula exactly."""
    shift = 4.0
    params = control(m_shift_mV=shift, m_slope_factor=2.0, h_slope_factor=0.5)
    ref = control()
    # -36 is the shifted pivot rounded to a table node; compare with the formula instead
    for v in (-60.0, -50.0, -36.0, -20.0):
        gates = _gates_at(params, v)
        expected_m = _gates_at(ref, M_PIVOT_mV + (v - shift - M_PIVOT_mV) / 2.0)
        r = rates(np.array([v]), shift, 0.0, 2.0, 0.5)
        assert gates["minf"] == pytest.approx(
            float(r["alpha_m"][0] / (r["alpha_m"][0] + r["beta_m"][0])), rel=1e-9
        )
        # same gate value as the unscaled cell at the mapped potential (interpolated there)
        assert gates["minf"] == pytest.approx(expected_m["minf"], rel=2e-3)
    r_mid = rates(np.array([M_PIVOT_mV + shift]), shift, 0.0, 2.0)
    assert r_mid["alpha_m"][0] / (r_mid["alpha_m"][0] + r_mid["beta_m"][0]) == pytest.approx(0.5)
    r_hmid = rates(np.array([H_PIVOT_mV]), 0.0, 0.0, 1.0, 0.5)
    assert r_hmid["alpha_h"][0] / (r_hmid["alpha_h"][0] + r_hmid["beta_h"][0]) == pytest.approx(0.5)
    # steeper h (0.5): further from the midpoint the gate is more fully open / closed
    steep = _gates_at(params, -80.0)["hinf"]
    assert steep > _gates_at(ref, -80.0)["hinf"]
    # the wild-type gates ignore every mutant column
    assert _gates_at(params, -50.0)["mwinf"] == _gates_at(ref, -50.0)["minf"]


def test_tau_factors_scale_time_constants_only() -> None:
    params = control(m_tau_factor=2.0, h_tau_factor=3.0)
    ref = control()
    for v in (-70.0, -40.0, 0.0):
        a, b = _gates_at(params, v), _gates_at(ref, v)
        assert a["mtau"] == pytest.approx(2.0 * b["mtau"], rel=1e-12)
        assert a["htau"] == pytest.approx(3.0 * b["htau"], rel=1e-12)
        assert a["minf"] == b["minf"] and a["hinf"] == b["hinf"] and a["ntau"] == b["ntau"]


def test_slower_inactivation_widens_the_spike() -> None:
    """h_tau_factor 3: Na inactivates more slowly, so the spike stays above 0 mV longer."""

    def width_ms(params: HHParams) -> float:
        run = steps(params, (10.0,))
        first = run.spike_times_ms[0][0]
        t = np.arange(run.v_full_mV.shape[1]) * SHORT_DT_ms
        window = (t > first - 2.0) & (t < first + 10.0)
        return float(np.count_nonzero(run.v_full_mV[0][window] > 0.0) * SHORT_DT_ms)

    assert width_ms(control(h_tau_factor=3.0)) > 1.3 * width_ms(control())


#: NEURON's integration step of the step protocol (ms): StepProtocol's default dt.
SHORT_DT_ms = StepProtocol((0.0,)).dt_ms


def test_mutant_fraction_zero_is_wild_type_and_one_is_fully_mutant() -> None:
    mutation = {"m_shift_mV": -10.0, "h_shift_mV": 5.0, "h_tau_factor": 2.0, "nap_fraction": 0.02}
    amps = (0.0, 3.0, 10.0, 40.0)
    wild = steps(control(), amps, mechanism="hh")
    f0 = steps(control(mutant_fraction=0.0, **mutation), amps)
    assert f0.params.uses_builtin_hh is False
    # f = 0: gnabar*0*(mutant) + gnabar*1*(wild type): the wild-type trajectory exactly
    assert_same_spikes(wild, f0, atol_ms=0.0)
    np.testing.assert_array_equal(wild.v_full_mV, f0.v_full_mV)
    full = steps(control(**mutation), amps)
    f1 = steps(control(mutant_fraction=1.0, **mutation), amps)
    assert_same_spikes(full, f1, atol_ms=0.0)
    np.testing.assert_array_equal(full.v_full_mV, f1.v_full_mV)
    # and the mutation matters: the fully mutant cell is not the wild type
    assert any(
        a.size != b.size for a, b in zip(wild.spike_times_ms, full.spike_times_ms, strict=True)
    )


def test_heterozygous_cell_lies_between_wild_type_and_mutant() -> None:
    fine = tuple(float(a) for a in np.round(np.arange(-1.0, 4.01, 0.1), 2))
    base = rheobase(control(), fine)
    het = rheobase(control(m_shift_mV=-4.0, mutant_fraction=0.5), fine)
    full = rheobase(control(m_shift_mV=-4.0), fine)
    assert full < het < base, (full, het, base)


def test_split_conductance_without_mutation_is_the_wild_type() -> None:
    """f = 0.5 with no mutant column: two identical halves, the hh cell up to rounding."""
    amps = (3.0, 10.0)
    wild = steps(control(), amps, mechanism="hh")
    split = steps(control(mutant_fraction=0.5), amps, mechanism="hhx")
    assert_same_spikes(wild, split, atol_ms=SAME_TRAJECTORY_ATOL_ms)


#: Shifted, persistent-Na cells: the whole Na conductance mutant, and a heterozygous split with
#: every column set.
CURRENT_CHECK_CELLS = (
    dict(gnabar=0.2, m_shift_mV=-4.0, h_shift_mV=3.0, nap_fraction=0.05, celsius=10.0),
    dict(gnabar=0.2, m_shift_mV=-4.0, h_shift_mV=3.0, nap_fraction=0.05, m_slope_factor=1.3,
         h_slope_factor=0.8, m_tau_factor=1.5, h_tau_factor=0.7, n_shift_mV=2.0,
         mutant_fraction=0.4, celsius=10.0),
)  # fmt: skip


@pytest.mark.parametrize("changes", CURRENT_CHECK_CELLS, ids=("whole_na", "every_column"))
def test_hhx_currents_match_params_module(changes: dict) -> None:
    """NEURON's hhx and hh_models.params agree on the steady Na and K currents."""
    from neuron import h

    from hh_models.cell import build_cell

    params = control(**changes)
    cell = build_cell(params)
    assert cell.mechanism == "hhx"
    # integer potentials: the rate table's own nodes, so interpolation is exact
    for v in (-80.0, -65.0, -50.0, -30.0, 0.0):
        h.finitialize(v)
        expected = steady_state_currents(params, v)
        assert cell.segment.ina == pytest.approx(expected["ina"], rel=1e-9, abs=1e-15)
        assert cell.segment.ik == pytest.approx(expected["ik"], rel=1e-9, abs=1e-15)


def test_new_columns_parse_and_descriptive_columns_travel(tmp_path: Path) -> None:
    header = (
        "name\tgnabar\tgkbar\tgl\tm_slope_factor\th_tau_factor\tn_shift_mV\tmutant_fraction"
        "\tgene\tvariant\tdoi\tsource_checked\n"
    )
    path = tmp_path / "c.tsv"
    path.write_text(
        header + "het\t0.12\t0.036\t0.0003\t1.2\t2\t-3\t0.5\tSCN2A\tR1882Q\t10.1038/srep31879\tno\n"
    )
    (cond,) = load_conditions(path)
    assert (cond.m_slope_factor, cond.h_tau_factor, cond.n_shift_mV) == (1.2, 2.0, -3.0)
    assert cond.mutant_fraction == 0.5 and cond.needs_custom_mechanism
    assert cond.to_dict()["gene"] == "SCN2A" and cond.to_dict()["source_checked"] == "no"
    params = params_from_condition(cond, HH_CFG)
    assert params.mutant_fraction == 0.5 and params.h_tau_factor == 2.0


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("m_slope_factor", "0", "column 'm_slope_factor'"),
        ("h_slope_factor", "steep", r"column 'h_slope_factor': 'steep' is not a number"),
        ("m_tau_factor", "-1", "column 'm_tau_factor'"),
        ("h_tau_factor", "nan", "column 'h_tau_factor': nan is not a finite number"),
        ("n_shift_mV", "80", "column 'n_shift_mV'"),
        ("mutant_fraction", "1.5", "column 'mutant_fraction'"),
        ("source_checked", "maybe", "column 'source_checked'"),
        ("doi", "https://doi.org/10.1038/srep31879", "column 'doi': .* is not a DOI"),
    ],
)
def test_malformed_values_name_file_line_and_column(
    tmp_path: Path, column: str, value: str, expected: str
) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(
        HEADER.format(column=column)
        + f"ok\t0.12\t0.036\t0.0003\t\nbad\t0.12\t0.036\t0.0003\t{value}\n"
    )
    with pytest.raises(ConfigError, match=rf"line 3 \(condition 'bad'\), {expected}") as info:
        load_conditions(path)
    assert str(path) in str(info.value)


def test_brian2_twin_follows_every_column(repo_root: Path) -> None:
    """The Brian2 twin (the HH stage's cross-check) implements the same two-population cell:
    step-window spike counts agree with NEURON within one spike."""
    from hh_models.brian2_twin import run_steps_brian2

    hh_cfg = load_config([repo_root / "config" / "config.yaml"])["hh"]

    params = control(
        m_shift_mV=-3.0,
        h_shift_mV=2.0,
        m_slope_factor=1.2,
        h_slope_factor=0.9,
        m_tau_factor=1.3,
        h_tau_factor=1.5,
        n_shift_mV=2.0,
        nap_fraction=0.01,
        mutant_fraction=0.5,
    )
    amps = (0.0, 5.0, 10.0, 30.0)
    protocol = StepProtocol(amps, **SHORT)
    neuron_run = run_steps(params, protocol, THRESHOLD_mV, STORE_DT_ms)
    brian = run_steps_brian2(params, protocol, THRESHOLD_mV, hh_cfg["brian2"]["dt_ms"], "cython")
    start, stop = SHORT["delay_ms"], SHORT["delay_ms"] + SHORT["duration_ms"]
    n_neuron = [int(np.count_nonzero((s >= start) & (s < stop))) for s in neuron_run.spike_times_ms]
    n_brian = list(brian.spike_counts(start, stop))
    assert sum(n_neuron) > 10
    assert np.all(np.abs(np.array(n_neuron) - np.array(n_brian)) <= 1), (n_neuron, n_brian)
    # the same columns at mutant_fraction 0 give the wild type's counts: the fraction is used
    wild = run_steps(control(), protocol, THRESHOLD_mV, STORE_DT_ms)
    n_wild = [int(np.count_nonzero((s >= start) & (s < stop))) for s in wild.spike_times_ms]
    assert n_wild != n_neuron
