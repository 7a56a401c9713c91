"""Mapping stage: HH outputs -> reference.json, {condition}.json, mappings.csv and figures.

The condition record is a stage file of ``bridge.contracts`` (docs/contracts.md). One
function per workflow rule: ``run_reference`` (input gains on the reference condition),
``run_condition`` (the LIF and MTC fits of one condition with the reference's gains held
fixed) and ``collect`` (the table across conditions and the two figures). Inputs are checked
before any fit runs; errors name the file and key.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bridge.config import Condition, MappingConfig
from bridge.contracts import (
    VALIDATION_HEADLINE_KEYS,
    MappingInputError,
    read_fi_curve,
    read_hh_summary,
    read_mapping_record,
    write_mapping_record,
)
from bridge.io import read_json, write_csv, write_json
from bridge.mapping.figures import plot_mapping_curves, plot_mapping_fi, plot_validation
from bridge.mapping.lif import fit_lif_condition, fit_reference
from bridge.mapping.mtc import MtcInputMap, fit_mtc_condition, fit_mtc_reference
from bridge.mapping.objective import step_window_from_config
from bridge.mapping.summary import beta_trend_agreement, mapping_table
from bridge.mapping.timing_fit import timing_optimised_lif
from bridge.mapping.validation import (
    DEFINITIONS,
    ValidationData,
    read_validation,
    validate_condition,
)
from bridge.mapping.validation import MODELS as VALIDATION_MODELS
from bridge.mapping.validation import flags as validation_flags
from bridge.provenance import config_hash, provenance

log = logging.getLogger(__name__)

HH_FILES = ("fi_curve.csv", "summary.json")
VALIDATION_FILE = "validation.npz"
GATE_RULE = (
    "flags travel into every downstream run and the compare tables; a run is dropped only "
    "where its stage's exclude_flagged is true (default false: dropping would remove the "
    "hyperexcitable cells under study). The autoencoder arm (LIF mapping, 5 steps from "
    "rest) is gated on the transient flags, the regressor arms on the timing flags"
)
#: Measured excitability copied from the HH summary into every condition JSON.
HH_EXCITABILITY_KEYS = (
    "excitability",
    "spontaneous",
    "spontaneous_rate_hz",
    "rheobase_single_uA_cm2",
    "rheobase_repetitive_uA_cm2",
    "block_onset_uA_cm2",
    "tau_m_ms",
    "v_rest_mV",
)
STATUS_NOTE = (
    "status, use_downstream and downstream_rule refer to the LIF mapping (the flat fields); "
    "mtc.status, mtc.use_downstream and mtc.downstream_rule to the MTC mapping"
)


def _config_sections(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config the mapping outputs depend on (hashed into their provenance)."""
    for key in ("hh", "mapping"):
        if key not in config:
            raise MappingInputError(f"config: section '{key}' is missing")
    return {"hh": config["hh"], "mapping": config["mapping"]}


def _read_hh(hh_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    hh_dir = Path(hh_dir)
    for name in HH_FILES:
        if not (hh_dir / name).is_file():
            raise MappingInputError(f"{hh_dir / name}: missing (HH stage output)")
    fi = read_fi_curve(hh_dir / "fi_curve.csv", columns=())
    summary = read_hh_summary(hh_dir / "summary.json").to_dict()
    return fi, summary


def _check_condition(summary: Mapping[str, Any], name: str, hh_dir: Path) -> None:
    found = summary.get("condition")
    if found != name:
        raise MappingInputError(
            f"{hh_dir / 'summary.json'}: key 'condition' is {found!r}, expected {name!r}"
        )


def _hh_record(summary: Mapping[str, Any], hh_dir: Path) -> dict[str, Any]:
    record = {key: summary.get(key) for key in HH_EXCITABILITY_KEYS}
    record["tau_m_reason"] = summary.get("tau_m_reason")
    record["source"] = str(hh_dir)
    record["provenance"] = summary.get("provenance")
    return record


def run_reference(hh_dir: str | Path, config: Mapping[str, Any], out_json: str | Path) -> None:
    """Fit the input gains on the reference condition and write reference.json.

    ``hh_dir`` holds the reference condition's HH outputs; ``config`` is the workflow config
    (sections ``hh`` and ``mapping``). The LIF's w_per_nA and the MTC's input_scale,
    input_offset and a_slow_pos in it are held fixed for every condition.
    """
    t0 = time.perf_counter()
    sections = _config_sections(config)
    settings = MappingConfig.from_config(sections["mapping"], "mapping")
    hh_dir = Path(hh_dir)
    fi, summary = _read_hh(hh_dir)
    _check_condition(summary, settings.reference_condition, hh_dir)
    window = step_window_from_config(sections)
    log.info("reference %s: LIF fit of the input gain", settings.reference_condition)
    lif = fit_reference(fi, summary, settings, window=window)
    log.info(
        "LIF reference %s: w %.4g per nA, status %s, objective %.4g",
        lif.condition,
        lif.w_per_nA,
        lif.status,
        lif.result.objective,
    )
    log.info("reference %s: MTC fit of the input map", settings.reference_condition)
    mtc = fit_mtc_reference(fi, summary, settings, window=window)
    payload = {
        "reference_condition": settings.reference_condition,
        "dt_ms": settings.dt_ms,
        "mtc_time_unit_ms": settings.mtc_time_unit_ms,
        "held_fixed": {
            "lif": ["w_per_nA"],
            "mtc": ["input_scale", "input_offset", "a_slow_pos"],
        },
        "lif": lif.result.to_dict(),
        "mtc": mtc.to_dict(),
        "hh": _hh_record(summary, hh_dir),
        "provenance": provenance(sections),
    }
    write_json(out_json, payload)
    log.info("reference %s done in %.1f s", settings.reference_condition, time.perf_counter() - t0)


def _check_reference(
    reference: Mapping[str, Any], path: Path, config: Mapping[str, Any]
) -> tuple[str, float, MtcInputMap, str]:
    """Validate reference.json against the config; return (name, w, MTC map, LIF source)."""
    settings = MappingConfig.from_config(config["mapping"], "mapping")
    for key in ("reference_condition", "lif", "mtc", "provenance"):
        if key not in reference:
            raise MappingInputError(f"{path}: key '{key}' is missing")
    name = reference["reference_condition"]
    if name != settings.reference_condition:
        raise MappingInputError(
            f"{path}: key 'reference_condition' is {name!r}, but the config's "
            f"mapping.reference_condition is {settings.reference_condition!r}"
        )
    expected = config_hash(_config_sections(config))
    if reference["provenance"].get("config_hash") != expected:
        raise MappingInputError(
            f"{path}: key 'provenance.config_hash' does not match the current hh + mapping "
            "config; rerun the reference fit"
        )
    w = reference["lif"].get("w_per_nA")
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w <= 0:
        raise MappingInputError(f"{path}: key 'lif.w_per_nA': {w!r} is not a gain > 0")
    try:
        mtc_map = MtcInputMap.from_reference(reference["mtc"], name)
    except ValueError as exc:
        raise MappingInputError(f"{path}: {exc}") from None
    lif_source = f"reference:{name} ({reference['lif'].get('status', 'unknown')})"
    return name, float(w), mtc_map, lif_source


def run_condition(
    condition: str | Condition,
    hh_dir: str | Path,
    reference_json: str | Path,
    config: Mapping[str, Any],
    out_json: str | Path,
    validation_figure: Sequence[str | Path] = (),
) -> None:
    """Fit the LIF (beta, bias) and MTC (a_fast, i_bias) mappings of one condition, then
    judge them on the HH stage's held-out segments and transient (``hh_dir/validation.npz``).

    The reference's input gains (``reference_json``, from ``run_reference`` with the same
    config) are held fixed. Writes ``out_json``: the flat LIF fields, ``mtc``, ``hh`` and
    ``validation``; ``validation_figure`` lists figure paths (format from the suffix).
    """
    t0 = time.perf_counter()
    name = condition.name if isinstance(condition, Condition) else str(condition)
    sections = _config_sections(config)
    settings = MappingConfig.from_config(sections["mapping"], "mapping")
    hh_dir = Path(hh_dir)
    reference_json = Path(reference_json)
    if not reference_json.is_file():
        raise MappingInputError(f"{reference_json}: missing (run the reference fit first)")
    ref_name, w, mtc_map, lif_source = _check_reference(
        read_json(reference_json), reference_json, sections
    )
    fi, summary = _read_hh(hh_dir)
    _check_condition(summary, name, hh_dir)
    # Read before the fits so that a broken file fails in seconds; the fits never see it.
    validation_data = read_validation(hh_dir / VALIDATION_FILE)
    window = step_window_from_config(sections)
    log.info("condition %s: LIF fit (beta, bias)", name)
    lif = fit_lif_condition(fi, summary, settings, w, window=window, w_source=lif_source)
    log.info(
        "LIF %s: beta %.4g (tau %.4g ms), bias %.4g, status %s, objective %.4g",
        name,
        lif.beta_fit,
        lif.tau_fit_ms,
        lif.bias_fit,
        lif.status,
        lif.objective,
    )
    log.info("condition %s: MTC fit (a_fast, i_bias)", name)
    mtc = fit_mtc_condition(fi, summary, settings, mtc_map, window=window)
    lif_dict = lif.to_dict()
    payload = {
        **lif_dict,
        "gnabar": lif.beta_analytic.value,
        "status_note": STATUS_NOTE,
        "reference_condition": ref_name,
        "mtc_time_unit_ms": settings.mtc_time_unit_ms,
        "mtc": mtc.to_dict(),
        "hh": _hh_record(summary, hh_dir),
        "provenance": provenance(sections),
    }
    t1 = time.perf_counter()
    log.info("condition %s: validation on the held-out segments", name)
    payload["validation"], runs = validation_record(payload, validation_data, settings)
    log.info(
        "validation %s: held-out gamma(+-%g ms) LIF %s, LIF fine %s, MTC %s; flags %s (%.1f s)",
        name,
        settings.validation.hit_window_ms,
        *(
            _fmt(payload["validation"][m].get("summary", {}).get(payload["validation"]["key"]))
            for m in VALIDATION_MODELS
        ),
        payload["validation"]["flags"],
        time.perf_counter() - t1,
    )
    write_mapping_record(out_json, payload)
    if validation_figure:
        plot_validation(name, validation_data, runs, payload["validation"], *validation_figure)
    log.info("condition %s done in %.1f s", name, time.perf_counter() - t0)


def _fmt(value: float | None) -> str:
    return "not evaluable" if value is None else f"{value:.3f}"


def validation_record(
    payload: Mapping[str, Any], data: ValidationData, settings: MappingConfig
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``validation`` block of a condition record (scores, flags, gates) and the runs."""
    cfg = settings.validation
    results, runs = validate_condition(
        payload, data, cfg, settings.dt_ms, settings.mtc_time_unit_ms
    )
    results["lif_timing_fit"] = timing_optimised_lif(data, cfg, settings.dt_ms)
    found = validation_flags(results, cfg, data.transient_windows_ms.tolist())
    key = f"gamma_{cfg.hit_window_ms:g}ms"
    shortest = f"count_mae_{min(data.transient_windows_ms.tolist()):g}ms"

    def pick(model: str, *path: str) -> float | None:
        value: Any = results.get(model, {})
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    gamma_models = (*VALIDATION_MODELS, "lif_timing_fit")
    headline = {f"{m}_gamma": pick(m, "summary", key) for m in gamma_models}
    headline |= {f"{m}_hit_fraction": pick(m, "summary", "hit_fraction") for m in VALIDATION_MODELS}
    headline |= {f"{m}_count_ratio": pick(m, "summary", "count_ratio") for m in ("lif", "mtc")}
    headline |= {f"{m}_transient_count_mae": pick(m, "transient", shortest) for m in ("lif", "mtc")}
    block = {
        **results,
        "headline": {k: headline[k] for k in VALIDATION_HEADLINE_KEYS},
        "headline_reason": "null: not evaluable (no fitted parameters, neither model nor HH "
        "fires, or the chance coincidence exceeds max_chance_coincidence at every level)",
        "key": key,
        "hit_window_ms": cfg.hit_window_ms,
        "flags": found,
        "gates": {
            "autoencoder": [f for f in found["lif"] if f.startswith("transient")],
            "regressor_lif": [f for f in found["lif"] if f.startswith("timing")],
            "regressor_mtc": [f for f in found["mtc"] if f.startswith("timing")],
        },
        "gate_rule": GATE_RULE,
        "settings": cfg.model_dump(),
        "definitions": DEFINITIONS,
        "source": data.source,
    }
    return block, runs


def collect(
    mapping_jsons: Sequence[str | Path],
    out_csv: str | Path,
    fi_figure: Sequence[str | Path],
    curves_figure: Sequence[str | Path],
    summary_json: str | Path,
) -> None:
    """mappings.csv (one row per condition, table order), the trend summary and figures.

    ``mapping_jsons`` are the condition JSONs of ``run_condition`` (each carries its HH
    excitability); ``fi_figure`` and ``curves_figure`` list output paths (format from the
    suffix). ``summary_json`` receives whether the analytic and fitted beta move the same way
    (``bridge.mapping.summary``), also written into every row of the table.
    """
    if not mapping_jsons:
        raise MappingInputError("collect: no mapping JSONs given")
    records = []
    for path in mapping_jsons:
        record = read_mapping_record(path).to_dict()
        for key in ("condition", "mtc", "hh", "intervals", "provenance"):
            if key not in record:
                raise MappingInputError(f"{path}: key '{key}' is missing")
        records.append(record)
    trend = beta_trend_agreement(records)
    frame, n_null = mapping_table(records, trend)
    inputs = {r["condition"]: r["provenance"].get("config_hash") for r in records}
    prov = provenance({"mapping_inputs": inputs})
    write_csv(out_csv, frame, {**prov, "empty_cells": n_null, "beta_trend": trend})
    write_json(
        summary_json,
        {
            "conditions": [r["condition"] for r in records],
            "beta_trend": trend,
            "statuses": {
                r["condition"]: {"lif": r["status"], "mtc": r["mtc"]["status"]} for r in records
            },
            "validation": {
                r["condition"]: {
                    **(r.get("validation") or {}).get("headline", {}),
                    "flags": (r.get("validation") or {}).get("flags"),
                }
                for r in records
            },
            "empty_cells": n_null,
            "empty_cells_reason": "beta_membrane is null where tau_m is undefined (a cell "
            "firing at rest); rheobase null where no amplitude qualifies or the lowest one does",
            "provenance": prov,
        },
    )
    plot_mapping_fi(records, *fi_figure)
    plot_mapping_curves(records, *curves_figure)
