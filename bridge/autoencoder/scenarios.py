"""The autoencoder stage's scenario table: the paper's five (its Table 2) and one per condition.

Paper scenarios come from ``autoencoder.paper_scenarios`` (frozen decay constants per time
step, bias 0); only those listed in ``autoencoder.run_paper_scenarios`` train, and the
``autoencoder.benchmark_scenario`` (the MSEl reference) must be one of them.

Condition scenarios are named ``cond_<condition>`` and built from that condition's mapping
file alone (``results/mapping/<condition>.json``), so adding a condition trains only that
condition. Frozen values: every Leaky layer's ``beta`` = ``beta_fit``, every Synaptic layer's
``alpha`` = ``alpha_syn`` and ``beta_syn`` = ``beta_syn``, and ``bias_fit`` as a constant input
of every spiking neuron (threshold units per step; the mapping's ``dt_ms`` is the autoencoder's
step, both 1 ms).

Skip rule: a mapping whose ``use_downstream`` is false (the mapping stage could not constrain
the condition; its ``status`` and ``downstream_rule`` say why) gives a scenario with a
``skip_reason`` and no parameters. Its runs write a metrics file with status ``skipped`` and
the reason, so nothing is ever trained on missing values and the gap shows in the tables.

Runs: every scenario at every noise level and seed of the config; the benchmark also at the
noiseless level for each of ``autoencoder.null_seeds`` (extra seeds that exist only for the
MSEl null comparison: one more benchmark run each).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.autoencoder.model import NeuronParams
from bridge.config.autoencoder import (
    CONDITION_PREFIX,
    NULL_SIGMA,
    TRAINING_KEYS,
    AutoencoderConfig,
)
from bridge.contracts import MappingRecord, StageFileError, read_mapping_record

#: Mapping fields a usable condition scenario reads, and the NeuronParams field each sets.
MAPPING_FIELDS = {
    "beta_fit": "beta",
    "alpha_syn": "alpha",
    "beta_syn": "beta_syn",
    "bias_fit": "bias",
}


class ScenarioError(ValueError):
    """The config or a mapping file cannot define a scenario (message names file and field)."""


@dataclass(frozen=True)
class Scenario:
    """One scenario: its frozen neuron parameters, or why it is skipped.

    ``kind`` is ``"paper"`` or ``"condition"``; ``source`` the config key or mapping file.
    """

    name: str
    kind: str
    params: NeuronParams | None
    source: str
    condition: str | None = None
    skip_reason: str | None = None
    mapping_status: str | None = None

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None

    def describe(self) -> dict[str, Any]:
        """JSON-ready record (what the run's metrics file says about its scenario)."""
        return {
            "scenario": self.name,
            "kind": self.kind,
            "condition": self.condition,
            "scenario_source": self.source,
            "mapping_status": self.mapping_status,
            "skip_reason": self.skip_reason,
        }


@dataclass(frozen=True)
class RunKey:
    """One training run: scenario, noise level (its path label too) and seed."""

    scenario: str
    sigma: float
    seed: int

    @property
    def sigma_label(self) -> str:
        return sigma_label(self.sigma)


def condition_scenario_name(condition: str) -> str:
    return CONDITION_PREFIX + condition


def sigma_label(sigma: float) -> str:
    """Path label of a noise level: ``0``, ``0.1``, ``0.25`` (shortest exact decimal)."""
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma >= 0):
        raise ScenarioError(f"noise sigma must be a finite number >= 0, got {sigma!r}")
    label = repr(float(sigma))
    return label[:-2] if label.endswith(".0") else label


def checked_section(section: Mapping[str, Any]) -> AutoencoderConfig:
    """The ``autoencoder`` section, typed; ConfigError names a bad key (reserved scenario
    names, a benchmark not among the runs, null seeds that clash or lack sigma 0, ...)."""
    return AutoencoderConfig.from_config(section, "autoencoder")


def paper_scenario_names(section: Mapping[str, Any]) -> list[str]:
    """Paper scenarios that train, in the order of ``run_paper_scenarios``; checked."""
    return list(checked_section(section).run_paper_scenarios)


def paper_scenario(section: Mapping[str, Any], name: str) -> Scenario:
    """A paper scenario's frozen constants from ``autoencoder.paper_scenarios.<name>``."""
    defined = section["paper_scenarios"]
    if name not in defined:
        raise ScenarioError(
            f"config key 'autoencoder.paper_scenarios': no scenario {name!r} ({sorted(defined)})"
        )
    where = f"autoencoder.paper_scenarios.{name}"
    try:
        params = NeuronParams(**{k: float(v) for k, v in defined[name].items()})
    except (TypeError, ValueError) as err:
        raise ScenarioError(f"config key '{where}': {err}") from err
    return Scenario(name=name, kind="paper", params=params, source=f"config: {where}")


def condition_scenario(
    mapping: Mapping[str, Any] | MappingRecord, source: str, condition: str | None = None
) -> Scenario:
    """The scenario of one condition's mapping record (``source`` names it in messages).

    ``condition``, when given, must equal the record's ``condition`` field. The record's LIF
    part (:class:`bridge.contracts.MappingPart`) gives the flags and the parameters.
    """
    try:
        record = MappingRecord.of(mapping, source)
        name = record.condition
        if condition is not None and name != condition:
            raise StageFileError(f"{source}: field 'condition' is {name!r}, expected {condition!r}")
        lif = record.lif
        values = (
            {param: lif.number(key) for key, param in MAPPING_FIELDS.items()}
            if lif.use_downstream
            else None
        )
    except StageFileError as err:
        raise ScenarioError(str(err)) from err
    status = lif.status
    common = dict(
        name=condition_scenario_name(name),
        kind="condition",
        source=str(source),
        condition=name,
        mapping_status=None if status is None else str(status),
    )
    if values is None:
        reason = f"mapping use_downstream is false (status {status!r})"
        if lif.downstream_rule:
            reason += f"; mapping rule: {lif.downstream_rule}"
        return Scenario(params=None, skip_reason=reason, **common)
    try:
        params = NeuronParams(**values)
    except ValueError as err:
        raise ScenarioError(f"{source}: {err}") from err
    return Scenario(params=params, **common)


def load_condition_scenario(path: str | Path, condition: str | None = None) -> Scenario:
    """:func:`condition_scenario` of a mapping JSON file."""
    try:
        record = read_mapping_record(path)
    except StageFileError as err:
        raise ScenarioError(f"cannot read the mapping: {err}") from err
    return condition_scenario(record, str(path), condition)


def scenario_table(
    section: Mapping[str, Any], mapping_paths: Mapping[str, str | Path]
) -> list[Scenario]:
    """Paper scenarios that run, then one per condition (``{condition: mapping file}``)."""
    table = [paper_scenario(section, name) for name in paper_scenario_names(section)]
    table += [load_condition_scenario(path, name) for name, path in mapping_paths.items()]
    return table


def resolve_scenario(
    section: Mapping[str, Any], name: str, mapping_path: str | Path | None = None
) -> Scenario:
    """The scenario behind a run's name: a paper scenario, or ``cond_<c>`` from its mapping."""
    if name.startswith(CONDITION_PREFIX):
        if mapping_path is None:
            raise ScenarioError(f"scenario {name!r} needs its condition's mapping file")
        return load_condition_scenario(mapping_path, name.removeprefix(CONDITION_PREFIX))
    if mapping_path is not None:
        raise ScenarioError(f"paper scenario {name!r} takes no mapping file (got {mapping_path})")
    return paper_scenario(section, name)


def training_section(section: Mapping[str, Any], scenario: str) -> dict[str, Any]:
    """The part of the ``autoencoder`` section that one run of ``scenario`` depends on.

    The workflow passes this, not the whole section, as a training rule's parameters, so that
    adding a noise level, seed, scenario or condition (or changing a figure setting) reruns
    no existing run.
    """
    reduced = {key: section[key] for key in TRAINING_KEYS if key in section}
    reduced["noise"] = {"clamp": section["noise"]["clamp"]}
    own = (
        {scenario: section["paper_scenarios"][scenario]}
        if scenario in section["paper_scenarios"]
        else {}
    )
    reduced["paper_scenarios"] = own
    return reduced


def sigmas(section: Mapping[str, Any]) -> list[float]:
    return [float(s) for s in section["noise"]["sigmas"]]


def seeds(section: Mapping[str, Any]) -> list[int]:
    return [int(s) for s in section["seeds"]]


def null_seeds(section: Mapping[str, Any]) -> list[int]:
    """Extra benchmark seeds for the MSEl null comparison (noiseless runs only); checked."""
    return list(checked_section(section).null_seeds)


def planned_runs(section: Mapping[str, Any], conditions: Sequence[str]) -> list[RunKey]:
    """Every training run: scenario x sigma x seed, then the benchmark's null-seed runs."""
    names = paper_scenario_names(section) + [condition_scenario_name(c) for c in conditions]
    runs = [
        RunKey(name, sigma, seed)
        for name, sigma, seed in itertools.product(names, sigmas(section), seeds(section))
    ]
    benchmark = section["benchmark_scenario"]
    runs += [RunKey(benchmark, NULL_SIGMA, seed) for seed in null_seeds(section)]
    return runs


def benchmark_seeds_at(section: Mapping[str, Any], sigma: float) -> list[int]:
    """Seeds with a benchmark run at ``sigma`` (the null seeds only at the noiseless level)."""
    found = seeds(section)
    if sigma == NULL_SIGMA:
        found += null_seeds(section)
    return found


def null_pairs(section: Mapping[str, Any]) -> list[tuple[float, int, int]]:
    """MSEl null comparisons ``(sigma, seed_a, seed_b)``: every pair of benchmark runs at the
    same noise level, seeds in configured order."""
    return [
        (sigma, a, b)
        for sigma in sigmas(section)
        for a, b in itertools.combinations(benchmark_seeds_at(section, sigma), 2)
    ]


def scenario_comparisons(section: Mapping[str, Any], conditions: Sequence[str]) -> list[RunKey]:
    """MSEl comparisons against the benchmark: every other scenario's run at a config seed."""
    benchmark = section["benchmark_scenario"]
    return [
        run
        for run in planned_runs(section, conditions)
        if run.scenario != benchmark and run.seed in seeds(section)
    ]


def scenario_order(section: Mapping[str, Any], conditions: Iterable[str]) -> list[str]:
    """Display order: paper scenarios as run, then conditions as in the conditions table."""
    return paper_scenario_names(section) + [condition_scenario_name(c) for c in conditions]
