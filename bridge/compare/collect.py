"""Read every stage's per-condition and per-run files into one long table, tolerating gaps.

``runs.csv`` (one row per file x metric, in the order of the conditions table and the
expected runs)::

    stage      hh | mapping | autoencoder | regressor
    condition  condition name; empty for the autoencoder's paper scenarios; ``reference``
               for the regressor's AdLIF runs
    scenario   autoencoder scenario (``s1_benchmark``, ``cond_<condition>``), else empty
    model      regressor model (mtc, lif, adlif), else empty
    sigma      autoencoder input-noise SD, else empty
    seed       network seed, else empty
    status     ok (only usable values are listed)
    metric     name (see the *_FIELDS tables below; autoencoder layer rates: rate_<layer>)
    value      number (booleans as 1/0); empty for text-valued metrics
    text       the text of a text-valued metric (statuses), ``true``/``false`` for booleans,
               ``interpolated`` for an HH rate interpolated between grid amplitudes
    file       the file the value comes from

``gaps.csv`` lists every value that is not there, with the same identity columns, ``kind``
(file_missing, unreadable, key_missing, null, not_a_number, run_skipped, run_diverged,
identity_mismatch, outside_grid) and the reason (the file's own reason where it gives one).
Each gap is logged as a warning naming the file (a ``null`` with a reason the file states
is logged at INFO: it is a defined "not applicable", e.g. no rheobase in the tested grid).
Nothing here raises on a stage's output; a missing file is a gap. Files are read through
:mod:`bridge.contracts`: a network run's identity and status must parse as its record
(:class:`~bridge.contracts.AutoencoderMetrics`, :class:`~bridge.contracts.RegressorMetrics`,
else the whole run is an ``unreadable`` gap); the metrics themselves are looked up field by
field (the ``*_FIELDS`` tables name the contract's fields), so one missing value is one gap.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridge.compare.paths import (
    RunKey,
    expected_runs,
    hh_fi_curve_path,
    hh_summary_path,
    mapping_path,
)
from bridge.config.compare import CompareSettings
from bridge.contracts import (
    REGRESSOR_HORIZON_METRICS,
    REGRESSOR_HORIZONS,
    VALIDATION_HEADLINE_KEYS,
    AutoencoderMetrics,
    RegressorMetrics,
    RunMetrics,
    StageFileError,
    read_fi_curve,
    read_stage_json,
)

LOG = logging.getLogger(__name__)

#: What names one run (or one run's gap), in both tables.
RUN_ID_COLUMNS = ("stage", "condition", "scenario", "model", "sigma", "seed")
RUN_COLUMNS = (
    *RUN_ID_COLUMNS,
    "status",
    "metric",
    "value",
    "text",
    "file",
)
GAP_COLUMNS = (
    *RUN_ID_COLUMNS,
    "metric",
    "kind",
    "reason",
    "file",
)
#: Metric name of a gap that covers a whole file or run.
WHOLE_RUN = "*"
#: Tolerance when matching the reference current to an f-I grid amplitude (uA/cm2).
AMP_MATCH_TOL_UA_CM2 = 1e-9

PathSpec = tuple[str | int, ...]


@dataclass(frozen=True)
class Field:
    """One metric: where to find it (first path that exists wins), its type, and the key of
    the sibling that states why it may be null."""

    metric: str
    paths: tuple[PathSpec, ...]
    kind: str = "number"  # number | bool | text
    reason_path: PathSpec | None = None
    #: absent or null is no gap: a condition's defining parameter that older files lack or
    #: that is empty by design (mutant_fraction: all of gNa)
    optional: bool = False


def _f(
    metric: str,
    *paths: PathSpec,
    kind: str = "number",
    reason: PathSpec | None = None,
    optional: bool = False,
):
    return Field(metric, paths or ((metric,),), kind, reason, optional)


#: The HH cell's defining parameters beyond gnabar/gkbar/gl (``params`` of the HH summary,
#: from the conditions table), carried into runs.csv and conditions.csv.
HH_DEFINING_PARAMS = (
    "m_shift_mV",
    "h_shift_mV",
    "nap_fraction",
    "m_slope_factor",
    "h_slope_factor",
    "m_tau_factor",
    "h_tau_factor",
    "n_shift_mV",
    "mutant_fraction",
    "celsius",
    "el_mV",
    "v_rest_target_mV",
)


#: Held-out validation scores of the mapping record (``validation.headline``).
VALIDATION_HEADLINE = VALIDATION_HEADLINE_KEYS

HH_FIELDS = (
    _f("gnabar", ("params", "gnabar")),
    _f("gkbar", ("params", "gkbar")),
    _f("gl", ("params", "gl")),
    *(_f(name, ("params", name), optional=True) for name in HH_DEFINING_PARAMS),
    _f("rheobase_single_uA_cm2", reason=("rheobase_single_reason",)),
    _f("rheobase_repetitive_uA_cm2", reason=("rheobase_repetitive_reason",)),
    _f("spontaneous", kind="bool"),
    _f("spontaneous_rate_hz"),
    _f("isi_cv", ("noise", "isi_cv")),
    _f("noise_rate_hz", ("noise", "rate_hz")),
    _f("block_onset_uA_cm2", reason=("block_onset_reason",)),
    _f("n_block_sweeps"),
)
MAPPING_FIELDS = (
    _f("gnabar"),
    _f("lif_status", ("status",), kind="text"),
    _f("lif_use_downstream", ("use_downstream",), kind="bool"),
    _f("beta_analytic"),
    _f("beta_membrane", reason=("beta_membrane_detail", "reason")),
    _f("beta_fit"),
    # The fit's accepted-region interval of beta (claim 5 judges the direction by it).
    _f("beta_fit_low", ("intervals", "beta", 0)),
    _f("beta_fit_high", ("intervals", "beta", 1)),
    _f("tau_fit_ms"),
    _f("bias_fit"),
    _f("w_per_nA"),
    _f("alpha_syn"),
    _f("beta_syn"),
    _f("mtc_status", ("mtc", "status"), kind="text"),
    _f("mtc_use_downstream", ("mtc", "use_downstream"), kind="bool"),
    _f("mtc_a_fast", ("mtc", "a_fast")),
    _f("mtc_a_slow_pos", ("mtc", "a_slow_pos")),
    _f("mtc_i_bias", ("mtc", "i_bias")),
    _f("mtc_input_scale", ("mtc", "input_scale")),
    _f("mtc_input_offset", ("mtc", "input_offset")),
    *(
        _f(name, ("validation", "headline", name), reason=("validation", "headline_reason"))
        for name in VALIDATION_HEADLINE
    ),
    _f("lif_validation_flags", ("validation", "flags", "lif"), kind="text"),
    _f("mtc_validation_flags", ("validation", "flags", "mtc"), kind="text"),
)
AUTOENCODER_FIELDS = (
    _f("test_mse_final"),
    _f("baseline_mean_image_mse", ("baseline_mse", "mean_image")),
    _f("baseline_blank_mse", ("baseline_mse", "blank")),
    _f("msed_train"),
    _f("msed_test"),
    _f("not_learned", kind="bool"),
    _f("network_rate", ("network_firing_rate_test_per_epoch", -1)),
    # The mapping could not identify beta: kept apart from identified conditions in claims.
    _f("beta_unidentified", kind="bool"),
    # The mapping's autoencoder gate (transient from rest): carried, excluded only on request.
    _f("validation_flags", kind="text"),
)
#: Final-epoch firing rate per layer on the test set (the paper's Eq. 11), one metric each.
AUTOENCODER_LAYER_RATES = ("firing_rate_final_epoch_test",)
#: Fallbacks of metrics that older metrics.json files kept only in ``headline``.
_REGRESSOR_HEADLINE = {
    "r2_closed_loop": ("headline", "r2"),
    "smape_closed_loop": ("headline", "smape"),
    "r2_one_step": ("headline", "r2_one_step"),
    "smape_one_step": ("headline", "smape_one_step"),
}
#: The baselines' numbers, ``{short}_{metric}_{horizon}``.
_REGRESSOR_BASELINES = (("repeat_last", "repeat_last_value"), ("ridge_ar", "ridge_ar"))
REGRESSOR_FIELDS = (
    *(
        _f(
            f"{metric}_{horizon}",
            ("evaluation", horizon, metric),
            *(
                (_REGRESSOR_HEADLINE[f"{metric}_{horizon}"],)
                if f"{metric}_{horizon}" in _REGRESSOR_HEADLINE
                else ()
            ),
        )
        for horizon in REGRESSOR_HORIZONS
        for metric in REGRESSOR_HORIZON_METRICS
    ),
    *(
        _f(f"{short}_{metric}_{horizon}", ("baselines", key, horizon, metric))
        for short, key in _REGRESSOR_BASELINES
        for horizon in REGRESSOR_HORIZONS
        for metric in ("r2", "smape", "smape_z")
    ),
    _f("beats_repeat_last_value", ("headline", "beats_repeat_last_value"), kind="bool"),
    _f("validation_flags", ("neuron", "validation_flags"), kind="text"),
)
#: Identity fields a per-run metrics.json states about itself, checked against its path.
IDENTITY_KEYS = {
    "autoencoder": ("scenario", "sigma", "seed"),
    "regressor": ("condition", "model", "seed"),
}
#: The contract record of each network stage's metrics.json.
RUN_RECORDS: dict[str, type[AutoencoderMetrics] | type[RegressorMetrics]] = {
    "autoencoder": AutoencoderMetrics,
    "regressor": RegressorMetrics,
}


@dataclass
class Collection:
    """What :func:`collect_runs` found: values (``runs``) and what is missing (``gaps``)."""

    runs: pd.DataFrame
    gaps: pd.DataFrame


@dataclass
class _Collector:
    rows: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _identity(key: RunKey) -> dict[str, Any]:
        return {
            "stage": key.stage,
            "condition": key.condition,
            "scenario": key.scenario,
            "model": key.model,
            "sigma": key.sigma,
            "seed": key.seed,
        }

    def add(
        self,
        key: RunKey,
        metric: str,
        path: Path,
        value: float | None = None,
        text: str = "",
    ) -> None:
        row = self._identity(key)
        row.update(status="ok", metric=metric, value=value, text=text, file=str(path))
        self.rows.append(row)

    def gap(
        self, key: RunKey, metric: str, path: Path, kind: str, reason: str, warn: bool = True
    ) -> None:
        row = self._identity(key)
        row.update(metric=metric, kind=kind, reason=reason, file=str(path))
        self.gaps.append(row)
        what = "whole file" if metric == WHOLE_RUN else f"'{metric}'"
        message = "%s: %s: %s left empty (%s: %s)"
        (LOG.warning if warn else LOG.info)(message, path, key.label(), what, kind, reason)


def _lookup(doc: Any, path: PathSpec) -> tuple[bool, Any]:
    value = doc
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or not -len(value) <= part < len(value):
                return False, None
            value = value[part]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def _read_json(path: Path, key: RunKey, out: _Collector) -> dict[str, Any] | None:
    if not path.is_file():
        out.gap(key, WHOLE_RUN, path, "file_missing", "file not found")
        return None
    try:
        return read_stage_json(path)
    except StageFileError as err:
        out.gap(key, WHOLE_RUN, path, "unreadable", err.reason)
        return None


def _extract(doc: Mapping[str, Any], key: RunKey, fld: Field, path: Path, out: _Collector) -> None:
    for spec in fld.paths:
        found, value = _lookup(doc, spec)
        if found:
            break
    else:
        if fld.optional:
            return
        where = " or ".join(".".join(map(str, p)) for p in fld.paths)
        out.gap(key, fld.metric, path, "key_missing", f"no key {where}")
        return
    if value is None and fld.optional:
        return
    if value is None:
        reason = None
        if fld.reason_path is not None:
            _, reason = _lookup(doc, fld.reason_path)
        if reason:
            out.gap(key, fld.metric, path, "null", str(reason), warn=False)
        else:
            out.gap(key, fld.metric, path, "null", "null in the file")
        return
    if fld.kind == "text":
        text = ";".join(map(str, value)) if isinstance(value, list) else str(value)
        out.add(key, fld.metric, path, None, text)
    elif fld.kind == "bool":
        if not isinstance(value, bool):
            out.gap(key, fld.metric, path, "not_a_number", f"expected true/false, got {value!r}")
            return
        out.add(key, fld.metric, path, float(value), "true" if value else "false")
    else:
        _add_number(key, fld.metric, value, path, out)


def _add_number(key: RunKey, metric: str, value: Any, path: Path, out: _Collector) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        out.gap(key, metric, path, "not_a_number", f"expected a number, got {value!r}")
    elif not math.isfinite(value):
        out.gap(key, metric, path, "not_a_number", f"non-finite value {value!r}")
    else:
        out.add(key, metric, path, float(value))


def _condition_doc(
    stage: str,
    path_of: Callable[[Path, str], Path],
    fields: Sequence[Any],
    condition: str,
    results_dir: Path,
    out: _Collector,
) -> tuple[RunKey, Path, Mapping[str, Any] | None]:
    """One condition's JSON of ``stage`` with ``fields`` extracted (None: missing or bad)."""
    key = RunKey(stage, condition)
    path = path_of(results_dir, condition)
    doc = _read_json(path, key, out)
    if doc is not None:
        for fld in fields:
            _extract(doc, key, fld, path, out)
    return key, path, doc


def _collect_hh(settings: CompareSettings, results_dir: Path, out: _Collector) -> None:
    for condition in settings.conditions:
        key, path, doc = _condition_doc(
            "hh", hh_summary_path, HH_FIELDS, condition, results_dir, out
        )
        if doc is not None:
            found, n_block = _lookup(doc, ("n_block_sweeps",))
            if found and isinstance(n_block, int) and not isinstance(n_block, bool):
                out.add(key, "block", path, float(n_block > 0), "true" if n_block else "false")
            else:
                out.gap(key, "block", path, "key_missing", "no integer n_block_sweeps")
        _collect_rate_at_reference(settings, results_dir, key, out)


def _collect_rate_at_reference(
    settings: CompareSettings, results_dir: Path, key: RunKey, out: _Collector
) -> None:
    """The step-window rate at ``compare.reference_current_uA_cm2`` off ``fi_curve.csv``."""
    path = hh_fi_curve_path(results_dir, key.condition)
    metric = "rate_at_reference_hz"
    if not path.is_file():
        out.gap(key, metric, path, "file_missing", "file not found")
        return
    try:
        fi = read_fi_curve(path, columns=())
    except StageFileError as err:
        out.gap(key, metric, path, "unreadable", err.reason)
        return
    missing = {"amp_uA_cm2", "rate_hz"} - set(fi.columns)
    if missing:
        out.gap(key, metric, path, "key_missing", f"no column(s) {sorted(missing)}")
        return
    fi = fi.dropna(subset=["amp_uA_cm2", "rate_hz"]).sort_values("amp_uA_cm2")
    amps = fi["amp_uA_cm2"].to_numpy(float)
    rates = fi["rate_hz"].to_numpy(float)
    target = settings.reference_current_uA_cm2
    exact = np.flatnonzero(np.abs(amps - target) <= AMP_MATCH_TOL_UA_CM2)
    if exact.size:
        out.add(key, metric, path, float(rates[exact[0]]))
    elif amps.size >= 2 and amps[0] < target < amps[-1]:
        out.add(key, metric, path, float(np.interp(target, amps, rates)), "interpolated")
    else:
        span = f"[{amps.min():g}, {amps.max():g}]" if amps.size else "no rows"
        reason = f"{target:g} uA/cm2 outside the f-I grid {span}"
        out.gap(key, metric, path, "outside_grid", reason)


def _collect_mapping(settings: CompareSettings, results_dir: Path, out: _Collector) -> None:
    for condition in settings.conditions:
        _condition_doc("mapping", mapping_path, MAPPING_FIELDS, condition, results_dir, out)


def _identity_mismatch(record: RunMetrics, key: RunKey) -> str | None:
    for name in IDENTITY_KEYS[key.stage]:
        stated, wanted = getattr(record, name), getattr(key, name)
        same = (
            math.isclose(float(stated), float(wanted))
            if name == "sigma"
            else str(stated) == str(wanted)
        )
        if not same:
            return f"the file says {name} = {stated!r}, its path says {wanted!r}"
    return None


def _collect_network_run(key: RunKey, path: Path, out: _Collector) -> None:
    doc = _read_json(path, key, out)
    if doc is None:
        return
    try:
        record = RUN_RECORDS[key.stage].from_dict(doc, str(path))
    except StageFileError as err:
        out.gap(key, WHOLE_RUN, path, "unreadable", err.reason)
        return
    mismatch = _identity_mismatch(record, key)
    if mismatch:
        out.gap(key, WHOLE_RUN, path, "identity_mismatch", mismatch)
        return
    if record.status == "skipped":
        out.gap(key, WHOLE_RUN, path, "run_skipped", record.reason or "skipped")
        return
    if record.status == "diverged":
        out.gap(key, WHOLE_RUN, path, "run_diverged", record.reason or "diverged")
        return
    fields = AUTOENCODER_FIELDS if key.stage == "autoencoder" else REGRESSOR_FIELDS
    for fld in fields:
        _extract(record.data, key, fld, path, out)
    if key.stage == "autoencoder":
        _collect_layer_rates(record.data, key, path, out)


def _collect_layer_rates(doc: Mapping[str, Any], key: RunKey, path: Path, out: _Collector) -> None:
    (rates_key,) = AUTOENCODER_LAYER_RATES
    rates = doc.get(rates_key)
    if not isinstance(rates, Mapping) or not rates:
        out.gap(key, "mean_layer_rate", path, "key_missing", f"no layer rates under {rates_key}")
        return
    usable = []
    for layer, value in rates.items():
        before = len(out.rows)
        _add_number(key, f"rate_{layer}", value, path, out)
        if len(out.rows) > before:
            usable.append(float(value))
    if len(usable) == len(rates):
        out.add(key, "mean_layer_rate", path, float(np.mean(usable)))
    else:
        out.gap(key, "mean_layer_rate", path, "null", "a layer rate is missing")


def _frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(columns))
    frame["sigma"] = pd.to_numeric(frame["sigma"], errors="coerce").astype(float)
    frame["seed"] = pd.to_numeric(frame["seed"], errors="coerce").astype("Int64")
    if "value" in frame:
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    return frame


def collect_runs(settings: CompareSettings, results_dir: str | Path) -> Collection:
    """Read every file the config implies under ``results_dir``; see the module docstring."""
    results_dir = Path(results_dir)
    out = _Collector()
    _collect_hh(settings, results_dir, out)
    _collect_mapping(settings, results_dir, out)
    for key, path in expected_runs(settings, results_dir):
        _collect_network_run(key, path, out)
    runs = _frame(out.rows, RUN_COLUMNS)
    gaps = _frame(out.gaps, GAP_COLUMNS)
    LOG.info("collected %d values, %d gaps from %s", len(runs), len(gaps), results_dir)
    return Collection(runs, gaps)


def read_table(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read ``runs.csv`` or ``gaps.csv`` back with the types :func:`collect_runs` gives."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = set(columns) - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}")
    frame = frame[list(columns)].copy()
    return _frame(frame.replace({"": None}).to_dict("records"), columns).fillna(
        {c: "" for c in columns if c not in ("sigma", "seed", "value")}
    )
