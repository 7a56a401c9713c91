"""One row per condition: the HH cell, its mapped parameters, the two networks' metrics.

Network metrics are mean, SD (ddof 1; empty for one seed) and n over the seeds whose runs
hold the value; n = 0 with empty cells is a gap (``gaps.csv`` says which file and why;
``n_gaps`` counts them per condition). Autoencoder columns are the condition's scenario
(``cond_<condition>``) without input noise and at ``compare.noisy_sigma``; the same columns
prefixed ``ae_frozen_`` are its frozen-offset arm (``cond_<condition>.frozen``), kept apart;
``ae_beta_unidentified`` says whether its runs mark the mapping's beta unidentified; regressor
columns are per neuron model (MTC, LIF) with R2 and sMAPE in closed loop and one step
ahead and S_comm / S_comp of the one-step run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bridge.compare import markdown as md
from bridge.compare.collect import HH_DEFINING_PARAMS
from bridge.compare.comparisons import (
    beta_unidentified,
    condition_text,
    condition_value,
    seed_values,
)
from bridge.compare.paths import FROZEN, TRAINED, condition_scenario
from bridge.config.compare import CompareSettings
from bridge.neurons.registry import CONDITION_MODELS

#: (column, hh metric) of the HH block after the defining parameters, in table order.
HH_COLUMNS = (
    ("hh_spontaneous_rate_hz", "spontaneous_rate_hz"),
    ("hh_rheobase_single_uA_cm2", "rheobase_single_uA_cm2"),
    ("hh_rheobase_repetitive_uA_cm2", "rheobase_repetitive_uA_cm2"),
    ("hh_rate_at_reference_hz", "rate_at_reference_hz"),
    ("hh_isi_cv_noise", "isi_cv"),
    ("hh_block_onset_uA_cm2", "block_onset_uA_cm2"),
)
HH_FLAGS = (("hh_spontaneous", "spontaneous"), ("hh_block", "block"))
MAPPING_COLUMNS = (
    ("beta_analytic", "beta_analytic"),
    ("beta_membrane", "beta_membrane"),
    ("beta_fit", "beta_fit"),
    ("alpha_syn", "alpha_syn"),
    ("beta_syn", "beta_syn"),
    ("bias_fit", "bias_fit"),
    ("mtc_a_fast", "mtc_a_fast"),
    ("mtc_a_slow_pos", "mtc_a_slow_pos"),
    ("mtc_i_bias", "mtc_i_bias"),
    ("mtc_input_scale", "mtc_input_scale"),
    # Held-out validation (bridge.mapping.validation): Gamma at the hit window, mean of levels.
    ("map_lif_gamma", "lif_gamma"),
    ("map_mtc_gamma", "mtc_gamma"),
    ("map_lif_transient_count_mae", "lif_transient_count_mae"),
)
MAPPING_TEXT = (
    ("map_lif_status", "lif_status"),
    ("map_lif_use_downstream", "lif_use_downstream"),
    ("map_mtc_status", "mtc_status"),
    ("map_mtc_use_downstream", "mtc_use_downstream"),
    ("map_lif_validation_flags", "lif_validation_flags"),
    ("map_mtc_validation_flags", "mtc_validation_flags"),
)
#: (column stem, autoencoder metric, noisy?) of the autoencoder block.
AUTOENCODER_COLUMNS = (
    ("ae_test_mse_noiseless", "test_mse_final", False),
    ("ae_test_mse_noisy", "test_mse_final", True),
    ("ae_msed_train_noiseless", "msed_train", False),
    ("ae_mean_layer_rate_noiseless", "mean_layer_rate", False),
    ("ae_mean_image_mse", "baseline_mean_image_mse", False),
)
#: Regressor metrics per model, in table order.
REGRESSOR_COLUMNS = (
    "r2_one_step",
    "r2_closed_loop_first_lyapunov_time",
    "r2_closed_loop",
    "smape_z_one_step",
    "smape_closed_loop",
    "s_comm_one_step",
    "s_comp_one_step",
)


#: Every parameter that defines a condition's HH cell, in conditions-table order.
DEFINING_COLUMNS = ("gnabar", "gkbar", "gl", *HH_DEFINING_PARAMS)


def condition_definitions(runs: pd.DataFrame, conditions: Sequence[str]) -> pd.DataFrame:
    """One row per condition: its defining parameters as the HH stage recorded them (gnabar
    from the mapping record when the HH record is missing); empty where not stated."""
    rows = []
    for condition in conditions:
        row: dict[str, Any] = {"condition": condition}
        for name in DEFINING_COLUMNS:
            value = condition_value(runs, "hh", condition, name)
            if value is None and name == "gnabar":
                value = condition_value(runs, "mapping", condition, name)
            row[name] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=["condition", *DEFINING_COLUMNS])


def differing_parameters(definitions: pd.DataFrame, reference: str) -> dict[str, tuple[str, ...]]:
    """Per condition, the defining parameters it states with a value other than the
    reference condition's (one the reference does not state counts as other); ``()`` for
    the reference itself."""
    columns = [c for c in DEFINING_COLUMNS if c in definitions]
    ref = definitions[definitions["condition"] == reference]
    base = ref.iloc[0] if len(ref) else None
    out = {}
    for _, row in definitions.iterrows():
        names = []
        for name in columns:
            value = row[name]
            # A parameter the condition's files do not state is not named.
            if md.is_missing(value):
                continue
            other = None if base is None else base[name]
            if other is None or md.is_missing(other) or value != other:
                names.append(name)
        out[row["condition"]] = () if row["condition"] == reference else tuple(names)
    return out


def defining_text(definitions: pd.DataFrame, reference: str) -> list[str]:
    """Per condition, ``name value`` of every parameter that differs from the reference
    condition's (a shift or persistent-Na row no longer looks like the control)."""
    differing = differing_parameters(definitions, reference)
    out = []
    for _, row in definitions.iterrows():
        if row["condition"] == reference:
            out.append("reference")
            continue
        parts = [f"{name} {md.fmt(row[name])}" for name in differing[row["condition"]]]
        out.append(", ".join(parts) or "same as the reference")
    return out


def summarise(values: Sequence[float]) -> tuple[float | None, float | None, int]:
    """(mean, SD with ddof 1, n); None where undefined (n = 0; SD for n = 1)."""
    n = len(values)
    if n == 0:
        return None, None, 0
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), (float(arr.std(ddof=1)) if n > 1 else None), n


def _put(row: dict[str, Any], stem: str, values: Sequence[float]) -> None:
    mean, sd, n = summarise(values)
    row[f"{stem}_mean"], row[f"{stem}_sd"], row[f"{stem}_n"] = mean, sd, n


def conditions_table(
    runs: pd.DataFrame, gaps: pd.DataFrame, settings: CompareSettings
) -> pd.DataFrame:
    """The table described in the module docstring, in the conditions table's order."""
    rows = []
    definitions = condition_definitions(runs, settings.conditions).set_index("condition")
    for condition in settings.conditions:
        row: dict[str, Any] = {"condition": condition}
        row["is_control"] = condition == settings.reference_condition
        # Empty (mutant_fraction: the Na columns apply to all of gNa) where not stated.
        row.update(definitions.loc[condition].to_dict())
        for column, metric in HH_COLUMNS:
            row[column] = condition_value(runs, "hh", condition, metric)
        row["hh_reference_current_uA_cm2"] = settings.reference_current_uA_cm2
        row["hh_rate_at_reference_interpolated"] = (
            condition_text(runs, "hh", condition, "rate_at_reference_hz") == "interpolated"
        )
        for column, metric in HH_FLAGS:
            row[column] = condition_text(runs, "hh", condition, metric)
        for column, metric in MAPPING_TEXT:
            row[column] = condition_text(runs, "mapping", condition, metric)
        for column, metric in MAPPING_COLUMNS:
            row[column] = condition_value(runs, "mapping", condition, metric)
        row["ae_beta_unidentified"] = beta_unidentified(runs, condition)
        # The trained arm's columns always exist (other tables read them), empty if not run.
        for mode in dict.fromkeys((TRAINED, *settings.ae_condition_offsets)):
            scenario = condition_scenario(condition, mode)
            prefix = "ae_frozen_" if mode == FROZEN else "ae_"
            for stem, metric, noisy in AUTOENCODER_COLUMNS:
                sigma = settings.noisy_sigma if noisy else settings.noiseless_sigma
                values = seed_values(runs, "autoencoder", metric, scenario=scenario, sigma=sigma)
                _put(row, prefix + stem.removeprefix("ae_"), list(values.values()))
            not_learned = seed_values(
                runs,
                "autoencoder",
                "not_learned",
                scenario=scenario,
                sigma=settings.noiseless_sigma,
            )
            row[f"{prefix}n_not_learned_noiseless"] = int(sum(v > 0 for v in not_learned.values()))
        row["ae_noisy_sigma"] = settings.noisy_sigma
        for model in CONDITION_MODELS:
            for metric in REGRESSOR_COLUMNS:
                values = seed_values(runs, "regressor", metric, condition=condition, model=model)
                _put(row, f"reg_{model}_{metric}", list(values.values()))
        row["n_gaps"] = int((gaps["condition"] == condition).sum()) if len(gaps) else 0
        rows.append(row)
    return pd.DataFrame(rows)


def _sectioned(frame: pd.DataFrame, columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({title: frame[col] for title, col in columns})


def _mean_sd_frame(frame: pd.DataFrame, stems: Sequence[tuple[str, str]]) -> pd.DataFrame:
    out = {"condition": frame["condition"]}
    for title, stem in stems:
        out[title] = [
            md.mean_sd(m, s, n)
            for m, s, n in zip(
                frame[f"{stem}_mean"], frame[f"{stem}_sd"], frame[f"{stem}_n"], strict=True
            )
        ]
    return pd.DataFrame(out)


def definitions_markdown(definitions: pd.DataFrame, reference: str) -> list[str]:
    """Lines of the definitions block: a table of the parameters that vary between
    conditions, each row's differences from the reference, and the shared values."""
    columns = [c for c in DEFINING_COLUMNS if c in definitions]
    varying, shared = [], []
    for name in columns:
        stated = definitions[name].dropna()
        if stated.empty:
            continue
        if stated.nunique() > 1 or len(stated) < len(definitions):
            varying.append(name)
        else:
            shared.append(f"{name} {md.fmt(stated.iloc[0])}")
    frame = definitions[["condition", *varying]].copy()
    frame["defined by (vs the reference)"] = defining_text(definitions, reference)
    lines = [md.table(frame)]
    if shared:
        lines += ["", f"Same for every condition: {', '.join(shared)}."]
    return lines


def conditions_markdown(table: pd.DataFrame, settings: CompareSettings, prov_line: str) -> str:
    """conditions.md: the same table in readable blocks (definitions, HH, mapping, networks)."""
    ref = settings.reference_condition
    noisy = f"{settings.noisy_sigma:g}"
    hh = _sectioned(
        table,
        [
            ("condition", "condition"),
            ("gNa (S/cm²)", "gnabar"),
            ("spontaneous", "hh_spontaneous"),
            ("spont. rate (Hz)", "hh_spontaneous_rate_hz"),
            ("rheobase single (µA/cm²)", "hh_rheobase_single_uA_cm2"),
            ("rheobase repetitive (µA/cm²)", "hh_rheobase_repetitive_uA_cm2"),
            (
                f"rate at {settings.reference_current_uA_cm2:g} µA/cm² (Hz)",
                "hh_rate_at_reference_hz",
            ),
            ("ISI CV (noise run)", "hh_isi_cv_noise"),
            ("block", "hh_block"),
            ("block onset (µA/cm²)", "hh_block_onset_uA_cm2"),
        ],
    )
    mapping = _sectioned(
        table,
        [
            ("condition", "condition"),
            ("β analytic", "beta_analytic"),
            ("β membrane", "beta_membrane"),
            ("β fit", "beta_fit"),
            ("α_syn", "alpha_syn"),
            ("β_syn", "beta_syn"),
            ("bias", "bias_fit"),
            ("LIF status", "map_lif_status"),
            ("MTC a_fast", "mtc_a_fast"),
            ("MTC a_slow+", "mtc_a_slow_pos"),
            ("MTC i_bias", "mtc_i_bias"),
            ("MTC status", "map_mtc_status"),
        ],
    )
    blocks = []
    for mode in settings.ae_condition_offsets:
        prefix = "ae_frozen_" if mode == FROZEN else "ae_"
        ae = _mean_sd_frame(
            table,
            [
                ("test MSE σ=0", f"{prefix}test_mse_noiseless"),
                (f"test MSE σ={noisy}", f"{prefix}test_mse_noisy"),
                ("MSEd (train) σ=0", f"{prefix}msed_train_noiseless"),
                ("mean layer rate σ=0", f"{prefix}mean_layer_rate_noiseless"),
                ("mean-image MSE", f"{prefix}mean_image_mse"),
            ],
        )
        ae["not learned (σ=0 runs)"] = table[f"{prefix}n_not_learned_noiseless"]
        ae["β unidentified"] = table["ae_beta_unidentified"]
        title = (
            "scenario `cond_<condition>`, offsets trained"
            if mode == TRAINED
            else "scenario `cond_<condition>.frozen`, layer biases and BatchNorm shifts frozen at 0"
        )
        blocks += ["", f"## Autoencoder ({title}; final epoch, test set)", "", md.table(ae)]
    parts = [
        "# Conditions across the pipeline",
        "",
        f"Control: `{ref}`. Network cells: mean ± SD over seeds (n = seeds with a value; "
        "n=0: a gap, see `gaps.csv`). Empty mapped values are undefined for that condition "
        "(e.g. β membrane for a cell that fires at rest).",
        "",
        "## What defines each condition (the HH stage's parameters)",
        "",
        *definitions_markdown(table[["condition", *DEFINING_COLUMNS]], ref),
        "",
        "## HH cell (NEURON)",
        "",
        md.table(hh),
        "",
        "## Mapped parameters",
        "",
        md.table(mapping),
        *blocks,
    ]
    for model in CONDITION_MODELS:
        reg = _mean_sd_frame(
            table,
            [
                ("R² one step", f"reg_{model}_r2_one_step"),
                ("R² 1st Lyapunov time", f"reg_{model}_r2_closed_loop_first_lyapunov_time"),
                ("R² closed loop", f"reg_{model}_r2_closed_loop"),
                ("sMAPE z one step (%)", f"reg_{model}_smape_z_one_step"),
                ("sMAPE closed loop (%)", f"reg_{model}_smape_closed_loop"),
                ("S_comm one step", f"reg_{model}_s_comm_one_step"),
                ("S_comp one step", f"reg_{model}_s_comp_one_step"),
            ],
        )
        parts += ["", f"## Regressor: {model.upper()} (Mackey–Glass)", "", md.table(reg)]
    gaps = table[["condition", "n_gaps"]].rename(columns={"n_gaps": "gaps (see gaps.csv)"})
    parts += ["", "## Gaps per condition", "", md.table(gaps), "", prov_line, ""]
    return "\n".join(parts)
