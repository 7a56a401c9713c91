"""What a fit must reproduce: the HH data it uses (fi_curve.csv + summary.json) and the objective.

Which data enter a fit (the rule the LIF and MTC fits share; docs/mapping.md):

* rates: every step amplitude below the depolarisation-block onset whose sweep is not
  flagged ``block`` (a LIF or MTC neuron cannot block, so block sweeps and everything above
  the first one are left out and counted);
* first-spike latencies: at those amplitudes where the HH sweep holds at least
  ``latency_min_spikes`` spikes (a single transient spike is a class-II response outside the
  LIF), and only when the cell is silent at rest: a spontaneously firing cell's latency is the
  phase of its ongoing oscillation at step onset, not a charging time. A model sweep with no
  spike in the window is censored at the window length;
* the spontaneous rate (0 Hz for a cell silent at rest).

Objective = sum over points of weight * (residual / scale)^2 (``ObjectiveConfig``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bridge.config.mapping import MappingConfig, ObjectiveConfig
from bridge.contracts import EXCITABILITY_STATUSES

FI_COLUMNS = (
    "amp_uA_cm2",
    "amp_nA",
    "spike_count",
    "rate_hz",
    "first_spike_latency_ms",
    "block",
)
SUMMARY_KEYS = ("condition", "params", "spontaneous", "spontaneous_rate_hz", "tau_m_ms")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
MS_PER_S = 1000.0


class TargetError(ValueError):
    """The HH outputs handed to a fit are malformed (message names table, row, field)."""


@dataclass(frozen=True)
class StepWindow:
    """Timing of the HH protocols the model must reproduce, in ms."""

    delay_ms: float
    duration_ms: float
    spontaneous_ms: float

    def n_steps(self, dt_ms: float) -> tuple[int, int, int]:
        """(delay, step, spontaneous) lengths in model steps; each must be a whole number."""
        counts = []
        for name in ("delay_ms", "duration_ms", "spontaneous_ms"):
            value = getattr(self, name) / dt_ms
            if abs(value - round(value)) > 1e-9 * max(1.0, value) or round(value) < 0:
                raise TargetError(f"{name} = {getattr(self, name)} is not a multiple of {dt_ms=}")
            counts.append(int(round(value)))
        if counts[1] < 1 or counts[2] < 1:
            raise TargetError(
                f"step ({self.duration_ms} ms) and spontaneous ({self.spontaneous_ms} ms) "
                f"runs must last at least one step of {dt_ms} ms"
            )
        return counts[0], counts[1], counts[2]


def step_window_from_config(config: Mapping[str, Any]) -> StepWindow:
    """StepWindow from the workflow config (``hh.steps`` and ``hh.spontaneous``)."""
    hh = config["hh"]
    return StepWindow(
        delay_ms=float(hh["steps"]["delay_ms"]),
        duration_ms=float(hh["steps"]["duration_ms"]),
        spontaneous_ms=float(hh["spontaneous"]["duration_ms"]),
    )


@dataclass(frozen=True)
class FitTargets:
    """HH statistics one condition's model must reproduce; arrays run over all fi rows."""

    condition: str
    amp_uA_cm2: np.ndarray
    amp_nA: np.ndarray
    spike_count: np.ndarray
    rate_hz: np.ndarray
    latency_ms: np.ndarray  # NaN where the HH sweep has no spike in the window
    block: np.ndarray
    in_fit: np.ndarray
    latency_in_fit: np.ndarray
    spontaneous: bool
    spontaneous_rate_hz: float
    window: StepWindow
    objective: ObjectiveConfig
    #: the HH stage's excitability status (None in a summary that predates it)
    excitability: str | None = None

    @property
    def n_points(self) -> int:
        """Residuals with a non-zero weight (rates, latencies, the spontaneous rate)."""
        o = self.objective
        return (
            int(self.in_fit.sum()) * (o.weights.rate > 0)
            + int(self.latency_in_fit.sum()) * (o.weights.latency > 0)
            + (o.weights.spontaneous > 0)
        )

    @property
    def n_excluded_block(self) -> int:
        return int((~self.in_fit).sum())

    @property
    def fires_in_fitted_steps(self) -> bool:
        """Any fitted (non-block) step sweep with a spike in its window."""
        return bool(((self.spike_count > 0) & self.in_fit).any())

    @property
    def fires_with_positive_input(self) -> bool:
        """Any fitted sweep with positive current and a spike in the window."""
        return bool(((self.spike_count > 0) & self.in_fit & (self.amp_nA > 0)).any())

    def objective_per_point(self, objective_value: float) -> float:
        """Objective divided by the number of fitted points (mean squared scaled residual)."""
        return float(objective_value) / max(1, self.n_points)

    def rate_hz_from_counts(self, counts: np.ndarray) -> np.ndarray:
        return np.asarray(counts, dtype=float) * MS_PER_S / self.window.duration_ms

    def latency_censored_ms(self, latency_ms: np.ndarray) -> np.ndarray:
        """Model latencies with 'no spike in the window' replaced by the window length."""
        return np.where(np.isnan(latency_ms), self.window.duration_ms, latency_ms)

    def latency_scale_ms(self) -> np.ndarray:
        o = self.objective
        lat = np.nan_to_num(self.latency_ms, nan=self.window.duration_ms)
        return o.latency_scale_ms + o.latency_rel_scale * lat

    def data_record(self) -> dict[str, Any]:
        """How much data the fit uses (the shared part of every fit's ``fit_data``)."""
        return {
            "n_amplitudes": int(self.amp_nA.size),
            "n_rate_points": int(self.in_fit.sum()),
            "n_latency_points": int(self.latency_in_fit.sum()),
            "n_excluded_block": self.n_excluded_block,
            "spontaneous": self.spontaneous,
            "spontaneous_rate_hh_hz": self.spontaneous_rate_hz,
            "n_points": self.n_points,
        }

    @property
    def fit_amp_nA(self) -> np.ndarray:
        """Amplitudes whose rates enter the fit (the columns the objective expects)."""
        return self.amp_nA[self.in_fit]

    def objective_value(
        self, rate_hz: np.ndarray, latency_ms: np.ndarray, spontaneous_rate_hz: np.ndarray
    ) -> np.ndarray:
        """Objective per parameter set.

        ``rate_hz`` and ``latency_ms`` are [sets, fitted amplitudes] (``fit_amp_nA``),
        ``spontaneous_rate_hz`` is [sets].
        """
        o = self.objective
        fit = self.in_fit
        r = (np.asarray(rate_hz) - self.rate_hz[fit]) / o.rate_scale_hz
        total = o.weights.rate * np.sum(r * r, axis=1)
        m = self.latency_in_fit[fit]
        if m.any():
            lat_model = self.latency_censored_ms(np.asarray(latency_ms)[:, m])
            q = (lat_model - self.latency_ms[fit][m]) / self.latency_scale_ms()[fit][m]
            total = total + o.weights.latency * np.sum(q * q, axis=1)
        s = (np.asarray(spontaneous_rate_hz) - self.spontaneous_rate_hz) / o.rate_scale_hz
        return total + o.weights.spontaneous * s * s


def _bool_column(values: pd.Series, table: str) -> np.ndarray:
    out = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values.tolist()):
        if isinstance(value, (bool, np.bool_)):
            out[i] = bool(value)
        elif str(value).strip().lower() in _TRUE:
            out[i] = True
        elif str(value).strip().lower() in _FALSE:
            out[i] = False
        else:
            raise TargetError(f"{table}: row {i}, column 'block': {value!r} is not true/false")
    return out


def _float_column(fi: pd.DataFrame, column: str, table: str, *, allow_nan: bool) -> np.ndarray:
    values = pd.to_numeric(fi[column], errors="coerce").to_numpy(dtype=float)
    raw = fi[column].tolist()
    for i, (value, original) in enumerate(zip(values, raw, strict=True)):
        empty = original is None or (isinstance(original, float) and math.isnan(original))
        empty = empty or (isinstance(original, str) and original.strip() == "")
        if np.isnan(value) and not (allow_nan and empty):
            raise TargetError(f"{table}: row {i}, column '{column}': {original!r} is not a number")
        if np.isinf(value):
            raise TargetError(f"{table}: row {i}, column '{column}': {original!r} is not finite")
    return values


def _optional_number(summary: Mapping[str, Any], key: str) -> float | None:
    value = summary.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TargetError(f"summary.json: key '{key}': {value!r} is not a finite number or null")
    return float(value)


def fit_targets(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    objective: ObjectiveConfig,
    window: StepWindow,
) -> FitTargets:
    """Validate the HH outputs of one condition and select the data a fit uses (module doc)."""
    table = "fi_curve.csv"
    missing = [c for c in FI_COLUMNS if c not in fi.columns]
    if missing:
        raise TargetError(f"{table}: missing column(s) {missing}; expected {list(FI_COLUMNS)}")
    if len(fi) == 0:
        raise TargetError(f"{table}: no rows")
    absent = [k for k in SUMMARY_KEYS if k not in summary]
    if absent:
        raise TargetError(f"summary.json: missing key(s) {absent}")
    amp_ua = _float_column(fi, "amp_uA_cm2", table, allow_nan=False)
    amp_na = _float_column(fi, "amp_nA", table, allow_nan=False)
    count = _float_column(fi, "spike_count", table, allow_nan=False)
    rate = _float_column(fi, "rate_hz", table, allow_nan=False)
    latency = _float_column(fi, "first_spike_latency_ms", table, allow_nan=True)
    block = _bool_column(fi["block"], table)
    if (np.diff(amp_na) <= 0).any():
        row = int(np.argmax(np.diff(amp_na) <= 0)) + 1
        raise TargetError(f"{table}: row {row}, column 'amp_nA': amplitudes must rise strictly")
    for i in range(len(fi)):
        if count[i] < 0 or count[i] != round(count[i]):
            raise TargetError(f"{table}: row {i}, column 'spike_count': {count[i]!r} is invalid")
        if rate[i] < 0:
            raise TargetError(f"{table}: row {i}, column 'rate_hz': {rate[i]!r} is negative")
        if (count[i] > 0) == bool(np.isnan(latency[i])):
            raise TargetError(
                f"{table}: row {i}, column 'first_spike_latency_ms': must be given exactly "
                f"when spike_count > 0 (spike_count = {int(count[i])})"
            )
    spontaneous = summary["spontaneous"]
    if not isinstance(spontaneous, bool):
        raise TargetError(f"summary.json: key 'spontaneous': {spontaneous!r} is not true/false")
    spont_rate = _optional_number(summary, "spontaneous_rate_hz")
    if spont_rate is None:
        if spontaneous:
            raise TargetError("summary.json: 'spontaneous' is true but 'spontaneous_rate_hz' null")
        spont_rate = 0.0
    excitability = summary.get("excitability")
    if excitability is not None and excitability not in EXCITABILITY_STATUSES:
        raise TargetError(
            f"summary.json: key 'excitability': {excitability!r} is not one of "
            f"{list(EXCITABILITY_STATUSES)}"
        )
    onset = _optional_number(summary, "block_onset_uA_cm2")
    first_block = amp_ua[block].min() if block.any() else math.inf
    onset_ua = min(first_block, onset if onset is not None else math.inf)
    in_fit = amp_ua < onset_ua
    latency_in_fit = (
        in_fit & (count >= objective.latency_min_spikes) & (not spontaneous) & ~np.isnan(latency)
    )
    return FitTargets(
        condition=str(summary["condition"]),
        amp_uA_cm2=amp_ua,
        amp_nA=amp_na,
        spike_count=count.astype(np.int64),
        rate_hz=rate,
        latency_ms=latency,
        block=block,
        in_fit=in_fit,
        latency_in_fit=latency_in_fit,
        spontaneous=spontaneous,
        spontaneous_rate_hz=spont_rate,
        window=window,
        objective=objective,
        excitability=excitability,
    )


def fit_targets_for_model(
    fi: pd.DataFrame, summary: Mapping[str, Any], objective: ObjectiveConfig, window: StepWindow
) -> FitTargets:
    """``fit_targets`` for a model fit, which needs at least two amplitudes."""
    targets = fit_targets(fi, summary, objective, window)
    if targets.amp_nA.size < 2:
        raise ValueError(f"fi_curve.csv of {targets.condition!r}: needs at least 2 amplitudes")
    return targets


def reference_name(summary: Mapping[str, Any], reference_condition: str) -> str:
    """The condition ``summary`` describes; ValueError unless it is the configured reference."""
    name = str(summary.get("condition"))
    if name != reference_condition:
        raise ValueError(
            f"summary.json is for condition {name!r}, but mapping.reference_condition is "
            f"{reference_condition!r}"
        )
    return name


#: HH excitability statuses that are also mapping statuses: the f-I data of such a cell do
#: not describe a neuron that fires repetitively from a resting state.
HH_STATUS_FLAGS = ("never_fires", "block_at_rest", "onset_only")


def data_status_flags(targets: FitTargets) -> set[str]:
    """Status flags that follow from the HH data alone (shared by the LIF and MTC fits).

    ``spontaneous`` (fires at rest), ``never_fires`` (silent at rest and no spike in any
    fitted sweep, or the HH stage's excitability says so), ``spontaneous_only`` (fires at
    rest, no fitted sweep with positive current fires), ``depolarisation_block`` (block
    sweeps left out of the fit), and the HH stage's ``block_at_rest`` and ``onset_only``
    (``HH_STATUS_FLAGS``).
    """
    found: set[str] = set()
    if targets.excitability in HH_STATUS_FLAGS:
        found.add(str(targets.excitability))
    if targets.spontaneous:
        found.add("spontaneous")
    if not targets.fires_in_fitted_steps and not targets.spontaneous:
        found.add("never_fires")
    if targets.spontaneous and not targets.fires_with_positive_input:
        found.add("spontaneous_only")
    if targets.n_excluded_block > 0:
        found.add("depolarisation_block")
    return found


#: An onset-only model must also fire in at least this fraction of the fitted sweeps in
#: which the HH cell fires (its rheobase may differ by an amplitude step or two).
ONSET_MATCH_FRACTION = 0.9


def onset_only_reproduced(
    targets: FitTargets, rate_model_hz: np.ndarray, spontaneous_model_hz: float
) -> bool:
    """Does a model's response (rates over every fi row) fire only onset spikes, as an
    onset-only HH cell does? Silent at rest, no fitted sweep with more spikes than the HH
    cell's most, and firing in ``ONSET_MATCH_FRACTION`` of the HH cell's firing sweeps."""
    fit = targets.in_fit
    rates = np.asarray(rate_model_hz, dtype=float)[fit]
    counts = np.rint(rates * targets.window.duration_ms / MS_PER_S)
    hh = targets.spike_count[fit]
    hh_fires = hh > 0
    if spontaneous_model_hz > 0 or not hh_fires.any() or counts.max() > hh.max():
        return False
    return float(np.mean(counts[hh_fires] > 0)) >= ONSET_MATCH_FRACTION


def _optional_list(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values]


def residual_table(
    targets: FitTargets,
    model: str,
    rate_hz: np.ndarray,
    latency_ms: np.ndarray,
    spontaneous_rate_hz: float,
) -> dict[str, Any]:
    """Per-amplitude HH vs model values for every fi row (``in_fit`` marks those fitted).

    ``model`` names the model's columns (``rate_{model}_hz``, ...); ``latency_ms`` is NaN
    where the model does not spike in the step window.
    """
    t = targets
    lat_res = np.where(t.latency_in_fit, t.latency_censored_ms(latency_ms) - t.latency_ms, np.nan)
    return {
        "amp_uA_cm2": t.amp_uA_cm2.tolist(),
        "amp_nA": t.amp_nA.tolist(),
        "in_fit": t.in_fit.tolist(),
        "latency_in_fit": t.latency_in_fit.tolist(),
        "rate_hh_hz": t.rate_hz.tolist(),
        f"rate_{model}_hz": rate_hz.tolist(),
        "rate_residual_hz": (rate_hz - t.rate_hz).tolist(),
        "latency_hh_ms": _optional_list(t.latency_ms),
        f"latency_{model}_ms": _optional_list(latency_ms),
        "latency_residual_ms": _optional_list(lat_res),
        "n_latency_null_hh": int(np.isnan(t.latency_ms).sum()),
        f"n_latency_null_{model}": int(np.isnan(latency_ms).sum()),
        "latency_null_reason": "no spike in the step window",
        "spontaneous_rate_hh_hz": t.spontaneous_rate_hz,
        f"spontaneous_rate_{model}_hz": float(spontaneous_rate_hz),
        "spontaneous_residual_hz": float(spontaneous_rate_hz) - t.spontaneous_rate_hz,
    }


#: Nested config keys under their names in every mapping JSON's ``settings`` record (the
#: record's flat names predate the nested config); other nested keys join with "_".
RECORD_KEYS = {
    "weights.rate": "weight_rate",
    "weights.latency": "weight_latency",
    "weights.spontaneous": "weight_spontaneous",
    "nelder_mead.max_iter": "nm_max_iter",
    "nelder_mead.xatol": "nm_xatol",
    "nelder_mead.fatol": "nm_fatol",
    "profile.max_tau_ratio": "max_tau_ratio",
    "profile.max_gain_ratio": "max_gain_ratio",
    "grid.a_fast_points": "profile_points",
    "grid.a_slow_pos_points": "a_slow_pos_points",
    "grid.input_scale_points": "input_scale_points",
    "grid.onset_points": "onset_points",
    "search.n_starts": "n_starts",
    "search.max_iter": "max_iter",
    "search.resolution.a_fast": "resolution_a_fast",
    "search.resolution.a_slow_pos": "resolution_a_slow_pos",
    "search.resolution.ln_input_scale": "resolution_ln_input_scale",
    "search.resolution.onset_spacings": "resolution_onset_spacings",
}


def _flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{path}."))
        else:
            out[RECORD_KEYS.get(path, path.replace(".", "_"))] = value
    return out


def settings_record(cfg: MappingConfig, model: str) -> dict[str, Any]:
    """The settings a fit of ``model`` (lif | mtc) records: its time step or unit, the
    reference condition, the objective and the model's own section, flattened."""
    time_key = "dt_ms" if model == "lif" else "mtc_time_unit_ms"
    return {
        time_key: getattr(cfg, time_key),
        "reference_condition": cfg.reference_condition,
        "objective": _flat(cfg.objective.model_dump()),
        model: _flat(getattr(cfg, model).model_dump()),
        "goodness_of_fit": cfg.goodness_of_fit.model_dump(),
    }
