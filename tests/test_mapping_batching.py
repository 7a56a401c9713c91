"""The mapping search's batching: large MTC chunks and each distinct row simulated once.

Both rest on one property: a parameter set's simulated response does not depend on the sets
simulated beside it. The tests check that property on the MTC, the row reuse on a counting
objective, and that MTC and LIF fits are identical, field for field, with the search
settings before the change (2048-element MTC chunks, every requested row simulated).
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from bridge.config import MappingConfig, load_config
from bridge.io import to_jsonable
from bridge.mapping import mtc, search
from bridge.mapping.lif import fit_lif_condition
from bridge.mapping.objective import StepWindow
from bridge.mapping.synthetic_tables import lif_fi_table, mtc_fi_table
from bridge.neurons.mtc import MTC_PRESETS

#: A short, coarse protocol (as tests/test_mapping_mtc_fit.py's hard cases) so fits take seconds.
UNIT_MS, DT = 0.2, 1.0
WINDOW = StepWindow(delay_ms=20.0, duration_ms=100.0, spontaneous_ms=100.0)
AMPS_UA_CM2 = np.arange(-4.0, 30.001, 3.0)
BASE = MTC_PRESETS["tonic"].replace(dt=DT)
#: The search settings before the batching change (bench/bench_mapping.py's BEFORE).
OLD_CHUNK_ELEMENTS = 2048


@pytest.fixture(scope="module")
def cfg(repo_root) -> MappingConfig:
    raw = copy.deepcopy(load_config([repo_root / "config" / "config.yaml"])["mapping"])
    raw["mtc_time_unit_ms"] = UNIT_MS
    raw["mtc"]["dt"] = DT
    raw["mtc"]["grid"].update(
        a_fast_points=3, a_slow_pos_points=3, input_scale_points=3, onset_points=2
    )
    raw["mtc"]["search"]["n_starts"] = 1
    raw["mtc"]["search"]["resolution"].update(
        a_fast=0.05, a_slow_pos=0.05, ln_input_scale=0.05, onset_spacings=0.5
    )
    raw["mtc"]["profile"]["edge_bisections"] = 1
    raw["lif"].update(start_grid_points=7, n_starts=2)
    raw["lif"]["profile"].update(points=9, zoom_rounds=2, edge_bisections=2)
    return MappingConfig.from_config(raw, "mapping")


def _old_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # smaller than the old 2048 elements: on this short grid those held a whole batch
    monkeypatch.setattr(mtc, "MTC_CHUNK_ELEMENTS", OLD_CHUNK_ELEMENTS // 16)
    monkeypatch.setattr(search.FitProblem, "reuse_evaluations", False)


def _record(result) -> str:
    return json.dumps(to_jsonable(result.to_dict()), sort_keys=True)


def _random_sets(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "a_fast": rng.uniform(-3.5, -1.2, n),
        "a_slow_pos": rng.uniform(0.5, 6.0, n),
        "input_scale": rng.uniform(10.0, 100.0, n),
        "input_offset": rng.uniform(-1.5, 0.0, n),
    }


def test_an_mtc_response_does_not_depend_on_its_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    protocol = mtc.mtc_protocol(WINDOW, UNIT_MS, DT)
    amps_nA = AMPS_UA_CM2 * 1e-3
    sets = _random_sets(24, seed=3)
    monkeypatch.setattr(mtc, "MTC_CHUNK_ELEMENTS", amps_nA.size)  # one set per chunk
    one_by_one = mtc.simulate_mtc(BASE, sets, amps_nA, protocol)
    monkeypatch.setattr(mtc, "MTC_CHUNK_ELEMENTS", 1 << 20)  # every set in one chunk
    together = mtc.simulate_mtc(BASE, sets, amps_nA, protocol)
    rows = np.array([21, 2, 17])
    subset = mtc.simulate_mtc(BASE, {k: v[rows] for k, v in sets.items()}, amps_nA, protocol)
    # the sets span silent, onset-only, repetitive and spontaneous responses
    assert 0 < (together.spike_count > 1).mean() < 1 and together.spontaneous_count.any()
    for name in ("spike_count", "first_latency_ms", "spontaneous_count"):
        a, b = getattr(one_by_one, name), getattr(together, name)
        np.testing.assert_array_equal(a, b, err_msg=name)  # NaN where NaN, else bit-equal
        np.testing.assert_array_equal(getattr(subset, name), b[rows], err_msg=name)


class Counting(search.FitProblem):
    """A closed-form response; counts the rows it is asked to simulate."""

    def __init__(self) -> None:
        super().__init__(targets=None)
        self.lower = np.array([-1.0, -1.0])
        self.upper = np.array([1.0, 1.0])
        self.simulated: list[np.ndarray] = []

    def _simulate(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.n_calls += 1
        self.n_simulated += z.shape[0]
        self.simulated.append(z.copy())
        return (z[:, 0] - 0.3) ** 2 + 3.0 * z[:, 1] ** 2, (z[:, 1] > 0).astype(float)

    def rest_matches(self, spont_hz: np.ndarray) -> np.ndarray:
        return np.asarray(spont_hz) == 0.0  # a cell silent at rest


def test_each_distinct_row_is_simulated_once_and_logged_every_time() -> None:
    new, old = Counting(), Counting()
    old.reuse_evaluations = False
    a, b, c = [0.1, 0.2], [0.5, -0.5], [-0.25, 0.75]
    batches = [np.array([a, b, a]), np.array([c, b]), np.array([a, c])]
    for z in batches:
        np.testing.assert_array_equal(new.evaluate(z), old.evaluate(z))
    assert new.n_evaluations == old.n_evaluations == 7
    assert old.n_simulated == 7
    assert new.n_simulated == 3 and new.n_calls == 2  # the third batch needs no simulation
    assert [s.tolist() for s in new.simulated] == [[a, b], [c]]
    # the log (the intervals' evaluated points) holds every requested row, as before
    for mine, theirs in zip(new._log_z, old._log_z, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(np.concatenate(new._log_j), np.concatenate(old._log_j))
    np.testing.assert_array_equal(np.concatenate(new._log_spont), np.concatenate(old._log_spont))
    assert new.best_rest_consistent()[1] == old.best_rest_consistent()[1]
    # the rest-state restriction still applies to rows taken from earlier evaluations
    new.require_rest_match = True
    assert np.isinf(new.evaluate(np.array([c]))[0])


def _onset_current(a_fast: float, a_slow: float) -> float:
    values = {"a_fast": np.array([a_fast]), "a_slow_pos": np.array([a_slow])}
    return float(mtc.mtc_onset_current(BASE, values)[0])


def _mtc_fits(cfg: MappingConfig) -> tuple[mtc.MtcFitResult, mtc.MtcFitResult]:
    """Reference and condition fits of MTC tables whose rest state is lost at 8 and 5
    uA/cm2 (as tests/test_mapping_mtc_fit.py builds them)."""
    slow, scale, a_fast = 4.0, 70.0, -2.6
    offset = _onset_current(-2.0, slow) + 1.0 - scale * 8.0e-3
    ref_truth = BASE.replace(a_slow_pos=slow, input_scale=scale, input_offset=offset)
    fi, summary = mtc_fi_table(ref_truth, AMPS_UA_CM2, WINDOW, UNIT_MS, condition="control")
    reference = mtc.fit_mtc_reference(fi, summary, cfg, window=WINDOW)
    fixed = mtc.MtcInputMap.from_reference(reference.to_dict(), "control")
    i_bias = _onset_current(a_fast, slow) - offset - scale * 5.0e-3
    cond_truth = ref_truth.replace(a_fast=a_fast, i_bias=i_bias)
    fi, summary = mtc_fi_table(cond_truth, AMPS_UA_CM2, WINDOW, UNIT_MS, condition="mild")
    return reference, mtc.fit_mtc_condition(fi, summary, cfg, fixed, window=WINDOW)


def test_mtc_fits_are_identical_to_the_old_search(
    cfg: MappingConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = _mtc_fits(cfg)
    with monkeypatch.context() as m:
        _old_settings(m)
        old = _mtc_fits(cfg)
    for mine, theirs in zip(new, old, strict=True):
        assert _record(mine) == _record(theirs)
    # real fits, in as many requested rows
    assert [r.status for r in new] == ["ok", "ok"]
    assert new[0].n_evaluations == old[0].n_evaluations > 0


def test_lif_fit_is_identical_to_the_old_search(
    cfg: MappingConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    fi, summary = lif_fi_table(0.9, 40.0, 0.02, AMPS_UA_CM2, WINDOW, cfg.dt_ms)
    new = fit_lif_condition(fi, summary, cfg, None, window=WINDOW)
    with monkeypatch.context() as m:
        _old_settings(m)
        old = fit_lif_condition(fi, summary, cfg, None, window=WINDOW)
    assert _record(new) == _record(old)
