"""Typed view of the ``mapping:`` section of the workflow config.

The schema (workflow/schemas/config.schema.yaml) already checks types and ranges when a
config file is loaded; this module turns the section into dataclasses and re-checks the
relations the schema cannot express, naming the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bridge.config_fields import ConfigFields

#: Gains a condition's MTC fit may free (a_fast always; a_slow_pos optionally).
MTC_CONDITION_GAINS = ("a_fast", "a_slow_pos")


class MappingConfigError(ValueError):
    """The mapping section is incomplete or inconsistent (message names the key)."""


@dataclass(frozen=True)
class ObjectiveSettings:
    """Scales and weights of the f-I objective (shared by the LIF and MTC fits).

    Residuals are divided by their scale before squaring: rates by ``rate_scale_hz``,
    latencies by ``latency_scale_ms + latency_rel_scale * latency_hh_ms``. Latencies enter
    only at amplitudes where the HH cell fires at least ``latency_min_spikes`` spikes.
    """

    rate_scale_hz: float
    latency_scale_ms: float
    latency_rel_scale: float
    latency_min_spikes: int
    weight_rate: float
    weight_latency: float
    weight_spontaneous: float


@dataclass(frozen=True)
class LifFitSettings:
    """Bounds, starts and profile settings of the LIF fit."""

    tau_bounds_ms: tuple[float, float]
    w_bounds_per_nA: tuple[float, float]
    rheobase_margin: float
    start_grid_points: int
    n_starts: int
    nm_max_iter: int
    nm_xatol: float
    nm_fatol: float
    profile_points: int
    profile_inner_points: int
    profile_zoom_rounds: int
    profile_edge_bisections: int
    profile_delta: float
    max_tau_ratio: float


@dataclass(frozen=True)
class MtcFitSettings:
    """Bounds, grids and profile settings of the MTC fit (gains in model units)."""

    preset: str
    dt: float
    condition_gains: tuple[str, ...]
    a_fast_bounds: tuple[float, float]
    a_slow_pos_bounds: tuple[float, float]
    input_scale_bounds_per_nA: tuple[float, float]
    onset_margin: float
    onset_margin_model: float
    profile_points: int
    a_slow_pos_points: int
    input_scale_points: int
    onset_points: int
    n_starts: int
    resolution_a_fast: float
    resolution_a_slow_pos: float
    resolution_ln_input_scale: float
    resolution_onset_spacings: float
    max_iter: int
    profile_edge_bisections: int
    profile_delta: float
    max_gain_ratio: float


@dataclass(frozen=True)
class MappingSettings:
    dt_ms: float
    reference_condition: str
    alpha_syn: float
    mtc_time_unit_ms: float
    objective: ObjectiveSettings
    lif: LifFitSettings
    mtc: MtcFitSettings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = ConfigFields(MappingConfigError)
_get = _FIELDS.get
_count = _FIELDS.count


def _number(section: Mapping[str, Any], key: str, where: str, *, positive: bool = True) -> float:
    return _FIELDS.number(section, key, where, positive=positive)


def _bounds(
    section: Mapping[str, Any], key: str, where: str, *, sign: int = 1
) -> tuple[float, float]:
    """[low, high] with low < high, both > 0 (``sign`` 1) or both < 0 (``sign`` -1)."""
    value = _get(section, key, where)
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            and sign * v > 0
            for v in value
        )
        or not value[0] < value[1]
    ):
        rule = "0 < low < high" if sign > 0 else "low < high < 0"
        raise MappingConfigError(
            f"config key '{where}.{key}': {value!r} must be [low, high] with {rule}"
        )
    return float(value[0]), float(value[1])


def mtc_fit_settings(mtc: Mapping[str, Any], where: str = "mapping.mtc") -> MtcFitSettings:
    """Parse ``config['mapping']['mtc']``; raise MappingConfigError naming the bad key."""
    preset = _get(mtc, "preset", where)
    if not isinstance(preset, str) or not preset:
        raise MappingConfigError(f"config key '{where}.preset' must be a preset name")
    grid = _get(mtc, "grid", where)
    gw = f"{where}.grid"
    search = _get(mtc, "search", where)
    sw = f"{where}.search"
    res = _get(search, "resolution", sw)
    rw = f"{sw}.resolution"
    prof = _get(mtc, "profile", where)
    pw = f"{where}.profile"
    gains = _get(mtc, "condition_gains", where)
    if (
        not isinstance(gains, (list, tuple))
        or "a_fast" not in gains
        or not set(gains) <= set(MTC_CONDITION_GAINS)
        or len(set(gains)) != len(gains)
    ):
        raise MappingConfigError(
            f"config key '{where}.condition_gains': {gains!r} must list a_fast and optionally "
            f"a_slow_pos (allowed: {list(MTC_CONDITION_GAINS)}), each once"
        )
    settings = MtcFitSettings(
        preset=preset,
        dt=_number(mtc, "dt", where),
        condition_gains=tuple(g for g in MTC_CONDITION_GAINS if g in gains),
        a_fast_bounds=_bounds(mtc, "a_fast_bounds", where, sign=-1),
        a_slow_pos_bounds=_bounds(mtc, "a_slow_pos_bounds", where),
        input_scale_bounds_per_nA=_bounds(mtc, "input_scale_bounds_per_nA", where),
        onset_margin=_number(mtc, "onset_margin", where),
        onset_margin_model=_number(mtc, "onset_margin_model", where),
        profile_points=_count(grid, "a_fast_points", gw, 3),
        a_slow_pos_points=_count(grid, "a_slow_pos_points", gw, 2),
        input_scale_points=_count(grid, "input_scale_points", gw, 2),
        onset_points=_count(grid, "onset_points", gw, 2),
        n_starts=_count(search, "n_starts", sw, 1),
        resolution_a_fast=_number(res, "a_fast", rw),
        resolution_a_slow_pos=_number(res, "a_slow_pos", rw),
        resolution_ln_input_scale=_number(res, "ln_input_scale", rw),
        resolution_onset_spacings=_number(res, "onset_spacings", rw),
        max_iter=_count(search, "max_iter", sw, 1),
        profile_edge_bisections=_count(prof, "edge_bisections", pw, 0),
        profile_delta=_number(prof, "delta", pw),
        max_gain_ratio=_number(prof, "max_gain_ratio", pw),
    )
    if settings.max_gain_ratio <= 1.0:
        raise MappingConfigError(f"config key '{pw}.max_gain_ratio' must be > 1")
    if settings.a_fast_bounds[1] >= -1.0:
        raise MappingConfigError(
            f"config key '{where}.a_fast_bounds': the upper bound must be below -1 (the fast "
            "element is a negative conductance only when a_fast < -1)"
        )
    return settings


def mapping_settings(mapping_cfg: Mapping[str, Any]) -> MappingSettings:
    """Parse ``config['mapping']``; raise MappingConfigError naming the bad key."""
    where = "mapping"
    obj = _get(mapping_cfg, "objective", where)
    ow = f"{where}.objective"
    weights = _get(obj, "weights", ow)
    ww = f"{ow}.weights"
    objective = ObjectiveSettings(
        rate_scale_hz=_number(obj, "rate_scale_hz", ow),
        latency_scale_ms=_number(obj, "latency_scale_ms", ow),
        latency_rel_scale=_number(obj, "latency_rel_scale", ow, positive=False),
        latency_min_spikes=_count(obj, "latency_min_spikes", ow, 1),
        weight_rate=_number(weights, "rate", ww, positive=False),
        weight_latency=_number(weights, "latency", ww, positive=False),
        weight_spontaneous=_number(weights, "spontaneous", ww, positive=False),
    )
    lif = _get(mapping_cfg, "lif", where)
    lw = f"{where}.lif"
    nm = _get(lif, "nelder_mead", lw)
    nw = f"{lw}.nelder_mead"
    prof = _get(lif, "profile", lw)
    pw = f"{lw}.profile"
    lif_settings = LifFitSettings(
        tau_bounds_ms=_bounds(lif, "tau_bounds_ms", lw),
        w_bounds_per_nA=_bounds(lif, "w_bounds_per_nA", lw),
        rheobase_margin=_number(lif, "rheobase_margin", lw),
        start_grid_points=_count(lif, "start_grid_points", lw, 3),
        n_starts=_count(lif, "n_starts", lw, 1),
        nm_max_iter=_count(nm, "max_iter", nw, 1),
        nm_xatol=_number(nm, "xatol", nw),
        nm_fatol=_number(nm, "fatol", nw),
        profile_points=_count(prof, "points", pw, 5),
        profile_inner_points=_count(prof, "inner_points", pw, 5),
        profile_zoom_rounds=_count(prof, "zoom_rounds", pw, 1),
        profile_edge_bisections=_count(prof, "edge_bisections", pw, 0),
        profile_delta=_number(prof, "delta", pw),
        max_tau_ratio=_number(prof, "max_tau_ratio", pw),
    )
    if lif_settings.max_tau_ratio <= 1.0:
        raise MappingConfigError(f"config key '{pw}.max_tau_ratio' must be > 1")
    alpha = _number(mapping_cfg, "alpha_syn", where)
    if alpha >= 1.0:
        raise MappingConfigError(f"config key '{where}.alpha_syn': {alpha!r} must be in (0, 1)")
    reference = _get(mapping_cfg, "reference_condition", where)
    if not isinstance(reference, str) or not reference:
        raise MappingConfigError(f"config key '{where}.reference_condition' must be a name")
    return MappingSettings(
        dt_ms=_number(mapping_cfg, "dt_ms", where),
        reference_condition=reference,
        alpha_syn=alpha,
        mtc_time_unit_ms=_number(mapping_cfg, "mtc_time_unit_ms", where),
        objective=objective,
        lif=lif_settings,
        mtc=mtc_fit_settings(_get(mapping_cfg, "mtc", where), f"{where}.mtc"),
    )
