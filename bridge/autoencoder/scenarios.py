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

Offset arms (``autoencoder.condition_offsets``): a condition trains as ``cond_<condition>``
with the tutorial's trainable layer biases and BatchNorm shifts (``trained``, as the paper's
scenarios, which always keep them) and/or as ``cond_<condition>.frozen`` with those offsets
fixed at 0 (``frozen``), so training cannot cancel the mapped bias. Frozen arms are compared
with the benchmark trained the same way, ``<benchmark>.frozen`` (the benchmark's constants,
offsets frozen), trained arms with the benchmark (:func:`benchmark_of`).

beta_unidentified: a condition whose mapping has LIF status (or status flag)
``beta_unidentified`` manipulates a beta the mapping could not pin down; its runs say
``beta_unidentified: true`` in their metrics, or are skipped when
``autoencoder.exclude_beta_unidentified`` is true.

Label-mapping arms (``autoencoder.label_arm``): ``cond_<condition>.label`` runs the paper's own
premise on the same network, beside the fitted ``cond_<condition>``. The paper maps a
conductance to the LIF decay alone, beta = exp(-dt/tau) with tau = C/g and dt = C, so
beta = exp(-g) (Eq. 3-4, :func:`bridge.mapping.analytic.beta_analytic`, g the number in the
condition's ``gnabar``); it sets the Synaptic layers' alpha and beta_syn separately, as
scenarios of their own, never from g, and has no bias. So the label arm takes beta =
exp(-gnabar) for every Leaky layer and the benchmark scenario's alpha, beta_syn and bias (the
paper's healthy 0.9, 0.9, 0): the paper's rule throughout, not the fitted alpha_syn, beta_syn
and bias_fit (a bias fitted together with another beta means nothing beside this one). It
needs no mapping file, keeps the trained offsets (no mapped bias to cancel) and is compared
with the benchmark like every arm and with ``cond_<condition>`` at the same seed by the compare
stage. Its metrics say ``beta_source: label``, ``beta`` and ``label_gnabar``; a fitted arm's
say ``beta_source: fitted``, a paper scenario's ``config``.

Noise protocols (``autoencoder.noise.protocols``): the first is the main one, whose runs keep
the plain names (the default, per-image noise scored against the clean image, is the current
protocol: README, "Noise protocol"). Every other protocol trains every scenario again at the
noisy levels only, named ``<scenario>.<sampling>_<target>`` (e.g. ``cond_control.per_step_clean``,
``s1_benchmark.frozen.per_step_clean``) and compared with the benchmark under the same protocol;
a noiseless run is the same under every protocol, so it trains once, under the main one.

Runs: every scenario (arm) at every noise level and seed of the config; the benchmark also at
the noiseless level for each of ``autoencoder.null_seeds`` (extra seeds that exist only for the
MSEl null comparison: one more benchmark run each); then the other protocols' runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bridge.autoencoder.model import NeuronParams
from bridge.config.autoencoder import (
    BETA_UNIDENTIFIED,
    CONDITION_PREFIX,
    DEFAULT_SAMPLING,
    DEFAULT_TARGET,
    NULL_SIGMA,
    PROTOCOL_TAGS,
    TRAINING_KEYS,
    AutoencoderConfig,
    arm_name,
    parse_arm,
    protocol_tag,
    split_arm,
)
from bridge.contracts import MappingPart, MappingRecord, StageFileError, read_mapping_record
from bridge.mapping.analytic import LABEL_MAPPING_TEXT, beta_analytic

#: Mapping fields a usable condition scenario reads, and the NeuronParams field each sets.
MAPPING_FIELDS = {
    "beta_fit": "beta",
    "alpha_syn": "alpha",
    "beta_syn": "beta_syn",
    "bias_fit": "bias",
}


#: Where a scenario's beta comes from: the config (a paper scenario), the mapping's fit (a
#: condition arm) or the paper's label mapping exp(-gnabar) (a label arm).
BETA_SOURCES = ("config", "fitted", "label")


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
    offsets: str = "trained"
    beta_unidentified: bool = False
    #: the mapping's autoencoder gate flags (bridge.mapping.validation: transient_mismatch)
    validation_flags: tuple[str, ...] = ()
    #: the run's noise protocol (autoencoder.noise.protocols; the name says it for an extra one)
    noise_sampling: str = DEFAULT_SAMPLING
    noise_target: str = DEFAULT_TARGET
    #: one of BETA_SOURCES; a label arm's gnabar (the number exp(-x) was taken of)
    beta_source: str = "config"
    label_gnabar: float | None = None

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
            "offsets": self.offsets,
            "base_scenario": split_arm(self.name)[0],
            "beta_unidentified": self.beta_unidentified,
            "validation_flags": list(self.validation_flags),
            "noise_sampling": self.noise_sampling,
            "noise_target": self.noise_target,
            "beta_source": self.beta_source,
            "beta": None if self.params is None else self.params.beta,
            "label_gnabar": self.label_gnabar,
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


def is_beta_unidentified(part: MappingPart) -> bool:
    """Whether a LIF mapping says beta alone is not identified (its status or a flag)."""
    flags = part.fields.get("status_flags") or ()
    return part.status == BETA_UNIDENTIFIED or (
        isinstance(flags, (list, tuple)) and BETA_UNIDENTIFIED in flags
    )


def condition_scenario(
    mapping: Mapping[str, Any] | MappingRecord,
    source: str,
    condition: str | None = None,
    *,
    offsets: str = "trained",
    exclude_beta_unidentified: bool = False,
    exclude_flagged: bool = False,
) -> Scenario:
    """The scenario of one condition's mapping record (``source`` names it in messages).

    ``condition``, when given, must equal the record's ``condition`` field. The record's LIF
    part (:class:`bridge.contracts.MappingPart`) gives the flags and the parameters. ``offsets``
    names the arm (module docstring); ``exclude_beta_unidentified`` skips a mapping whose beta
    is not identified instead of marking it; ``exclude_flagged`` one whose autoencoder gate
    (the transient from rest, ``validation.gates.autoencoder``) carries a flag.
    """
    try:
        record = MappingRecord.of(mapping, source)
        name = record.condition
        if condition is not None and name != condition:
            raise StageFileError(f"{source}: field 'condition' is {name!r}, expected {condition!r}")
        lif = record.lif
        flags = tuple(record.gate_flags("autoencoder"))
        values = (
            {param: lif.number(key) for key, param in MAPPING_FIELDS.items()}
            if lif.use_downstream
            else None
        )
    except StageFileError as err:
        raise ScenarioError(str(err)) from err
    status = lif.status
    unidentified = is_beta_unidentified(lif)
    common = dict(
        name=arm_name(condition_scenario_name(name), offsets),
        kind="condition",
        beta_source="fitted",
        source=str(source),
        condition=name,
        mapping_status=None if status is None else str(status),
        offsets=offsets,
        beta_unidentified=unidentified,
        validation_flags=flags,
    )
    if values is None:
        reason = f"mapping use_downstream is false (status {status!r})"
        if lif.downstream_rule:
            reason += f"; mapping rule: {lif.downstream_rule}"
        return Scenario(params=None, skip_reason=reason, **common)
    if unidentified and exclude_beta_unidentified:
        reason = (
            f"mapping beta is unidentified (LIF status {status!r}); excluded by "
            "autoencoder.exclude_beta_unidentified"
        )
        return Scenario(params=None, skip_reason=reason, **common)
    if flags and exclude_flagged:
        reason = f"mapping validation flags {list(flags)}; excluded by autoencoder.exclude_flagged"
        return Scenario(params=None, skip_reason=reason, **common)
    try:
        params = NeuronParams(**values)
    except ValueError as err:
        raise ScenarioError(f"{source}: {err}") from err
    return Scenario(params=params, **common)


def load_condition_scenario(
    path: str | Path,
    condition: str | None = None,
    *,
    offsets: str = "trained",
    exclude_beta_unidentified: bool = False,
    exclude_flagged: bool = False,
) -> Scenario:
    """:func:`condition_scenario` of a mapping JSON file."""
    try:
        record = read_mapping_record(path)
    except StageFileError as err:
        raise ScenarioError(f"cannot read the mapping: {err}") from err
    return condition_scenario(
        record,
        str(path),
        condition,
        offsets=offsets,
        exclude_beta_unidentified=exclude_beta_unidentified,
        exclude_flagged=exclude_flagged,
    )


def label_scenario(section: Mapping[str, Any], condition: str, gnabar: float) -> Scenario:
    """The label-mapping arm of ``condition`` (module docstring): beta = exp(-gnabar), the
    benchmark scenario's alpha, beta_syn and bias."""
    benchmark = section.get("benchmark_scenario")
    if benchmark is None:
        raise ScenarioError(
            "config key 'autoencoder.benchmark_scenario' is missing: a label arm takes the "
            "benchmark's alpha, beta_syn and bias"
        )
    try:
        label = beta_analytic(gnabar, name=f"gnabar of condition {condition!r}")
    except ValueError as err:
        raise ScenarioError(f"conditions table: {err}") from err
    bench = paper_scenario(section, benchmark)
    assert bench.params is not None
    return Scenario(
        name=arm_name(condition_scenario_name(condition), "trained", label=True),
        kind="condition",
        params=replace(bench.params, beta=label.beta),
        source=(
            f"conditions table: gnabar {label.value:g}; {LABEL_MAPPING_TEXT}; alpha, beta_syn "
            f"and bias of {benchmark!r}"
        ),
        condition=condition,
        beta_source="label",
        label_gnabar=label.value,
    )


def scenario_table(
    section: Mapping[str, Any], mapping_paths: Mapping[str, str | Path]
) -> list[Scenario]:
    """Paper scenarios that run, then one per condition (``{condition: mapping file}``)."""
    table = [paper_scenario(section, name) for name in paper_scenario_names(section)]
    table += [load_condition_scenario(path, name) for name, path in mapping_paths.items()]
    return table


def run_protocol(section: Mapping[str, Any], scenario: str) -> tuple[str, str]:
    """``(sampling, target)`` of a run of ``scenario``: the protocol its name carries, else the
    main one (the first of ``noise.protocols``, or a training rule's ``noise.sampling`` and
    ``noise.target``, absent for the default)."""
    tag = parse_arm(scenario).protocol
    if tag is not None:
        return PROTOCOL_TAGS[tag]
    noise = section["noise"]
    if "protocols" in noise:
        main = noise["protocols"][0]
        return str(main["sampling"]), str(main["target"])
    return str(noise.get("sampling", DEFAULT_SAMPLING)), str(noise.get("target", DEFAULT_TARGET))


def resolve_scenario(
    section: Mapping[str, Any],
    name: str,
    mapping_path: str | Path | None = None,
    *,
    gnabar: float | None = None,
) -> Scenario:
    """The scenario behind a run's name: a paper scenario, ``cond_<c>`` from its mapping, or
    the label arm ``cond_<c>.label`` from ``gnabar`` (its conditions-table row; default: the
    section's ``label_gnabar``, a training rule's copy); with the suffix of the frozen-offset
    arm (``.frozen``) and of an extra noise protocol (``.<sampling>_<target>``)."""
    arm = parse_arm(name)
    sampling, target = run_protocol(section, name)
    if arm.label:
        if gnabar is None:
            gnabar = section.get("label_gnabar")
        if gnabar is None or mapping_path is not None:
            raise ScenarioError(
                f"label arm {name!r} needs its condition's gnabar and no mapping file "
                f"(got gnabar {gnabar!r}, mapping {mapping_path})"
            )
        if not arm.base.startswith(CONDITION_PREFIX):
            raise ScenarioError(f"{name!r}: only a condition (cond_<c>) has a label arm")
        scenario = label_scenario(section, arm.base.removeprefix(CONDITION_PREFIX), gnabar)
    elif gnabar is not None:
        raise ScenarioError(f"scenario {name!r} takes no gnabar (only a label arm does)")
    elif arm.base.startswith(CONDITION_PREFIX):
        if mapping_path is None:
            raise ScenarioError(f"scenario {name!r} needs its condition's mapping file")
        scenario = load_condition_scenario(
            mapping_path,
            arm.base.removeprefix(CONDITION_PREFIX),
            offsets=arm.offsets,
            exclude_beta_unidentified=bool(section.get("exclude_beta_unidentified", False)),
            exclude_flagged=bool(section.get("exclude_flagged", False)),
        )
    else:
        if mapping_path is not None:
            raise ScenarioError(
                f"paper scenario {name!r} takes no mapping file (got {mapping_path})"
            )
        scenario = replace(paper_scenario(section, arm.base), offsets=arm.offsets)
    return replace(scenario, name=name, noise_sampling=sampling, noise_target=target)


def label_training_section(
    section: Mapping[str, Any], scenario: str, gnabar: float
) -> dict[str, Any]:
    """A label arm's training rule params: :func:`training_section` plus its condition's
    ``gnabar`` (``label_gnabar``), so a changed conditions-table row reruns the arm."""
    if not parse_arm(scenario).label:
        raise ScenarioError(f"{scenario!r} is no label arm (cond_<condition>.label)")
    return {**training_section(section, scenario), "label_gnabar": float(gnabar)}


def training_section(section: Mapping[str, Any], scenario: str) -> dict[str, Any]:
    """The part of the ``autoencoder`` section that one run of ``scenario`` depends on.

    The workflow passes this, not the whole section, as a training rule's parameters, so that
    adding a noise level, seed, scenario or condition (or changing a figure setting) reruns
    no existing run. A condition arm also depends on ``exclude_beta_unidentified`` and
    ``exclude_flagged``; a label arm on the benchmark's constants (``benchmark_scenario``; its
    gnabar is a rule parameter of its own); a run under a protocol other than the default on
    its ``sampling`` and ``target`` (``noise``). Applied to its own result it returns the same
    dict.
    """
    reduced = {key: section[key] for key in TRAINING_KEYS if key in section}
    reduced["noise"] = {"clamp": section["noise"]["clamp"]}
    # Only a protocol other than the default is written, so the default's runs keep the
    # parameters (and the Snakemake params) they had before protocols existed.
    sampling, target = run_protocol(section, scenario)
    if (sampling, target) != (DEFAULT_SAMPLING, DEFAULT_TARGET):
        reduced["noise"].update(sampling=sampling, target=target)
    arm = parse_arm(scenario)
    if arm.label:
        # The paper's rule: the benchmark's constants, beta from gnabar (label_training_section).
        benchmark = section["benchmark_scenario"]
        reduced["paper_scenarios"] = {benchmark: section["paper_scenarios"][benchmark]}
        reduced["benchmark_scenario"] = benchmark
        if "label_gnabar" in section:
            reduced["label_gnabar"] = section["label_gnabar"]
        return reduced
    base = arm.base
    own = {base: section["paper_scenarios"][base]} if base in section["paper_scenarios"] else {}
    reduced["paper_scenarios"] = own
    if base.startswith(CONDITION_PREFIX):
        reduced["exclude_beta_unidentified"] = section["exclude_beta_unidentified"]
        reduced["exclude_flagged"] = section["exclude_flagged"]
    return reduced


def sigmas(section: Mapping[str, Any]) -> list[float]:
    return [float(s) for s in section["noise"]["sigmas"]]


def seeds(section: Mapping[str, Any]) -> list[int]:
    return [int(s) for s in section["seeds"]]


def null_seeds(section: Mapping[str, Any]) -> list[int]:
    """Extra benchmark seeds for the MSEl null comparison (noiseless runs only); checked."""
    return list(checked_section(section).null_seeds)


def condition_offsets(section: Mapping[str, Any]) -> list[str]:
    """Offset modes of the condition arms (``autoencoder.condition_offsets``), checked."""
    return list(checked_section(section).condition_offsets)


def condition_arms(section: Mapping[str, Any], conditions: Sequence[str]) -> list[str]:
    """Condition scenarios, per offset mode (in configured order) then condition."""
    return [
        arm_name(condition_scenario_name(c), mode)
        for mode in condition_offsets(section)
        for c in conditions
    ]


def label_arms(section: Mapping[str, Any], conditions: Sequence[str]) -> list[str]:
    """The label-mapping arms ``cond_<c>.label`` when ``autoencoder.label_arm`` (checked)."""
    if not checked_section(section).label_arm:
        return []
    return [arm_name(condition_scenario_name(c), "trained", label=True) for c in conditions]


def paper_arms(section: Mapping[str, Any], conditions: Sequence[str]) -> list[str]:
    """Paper scenarios that train, plus the frozen-offset benchmark when a frozen condition
    arm needs it as its reference."""
    names = paper_scenario_names(section)
    if conditions and "frozen" in condition_offsets(section):
        names.append(arm_name(section["benchmark_scenario"], "frozen"))
    return names


def paper_rule_scenarios(section: Mapping[str, Any], conditions: Sequence[str]) -> list[str]:
    """Every scenario the paper-scenario rule trains (no condition arm), all protocols."""
    return [
        name
        for name in scenario_order(section, conditions)
        if not parse_arm(name).base.startswith(CONDITION_PREFIX)
    ]


def benchmark_of(section: Mapping[str, Any], scenario: str) -> str:
    """The benchmark arm ``scenario`` is compared with: trained with the same offsets, under
    the same noise protocol."""
    arm = parse_arm(scenario)
    return arm_name(section["benchmark_scenario"], arm.offsets, arm.protocol)


def extra_protocols(section: Mapping[str, Any]) -> list[str]:
    """Tags of the noise protocols after the main one (``noise.protocols``), checked."""
    protocols = checked_section(section).noise.protocols
    return [protocol_tag(p.sampling, p.target) for p in protocols[1:]]


def noisy_sigmas(section: Mapping[str, Any]) -> list[float]:
    """The configured noise levels above 0 (where noise protocols can differ)."""
    return [s for s in sigmas(section) if s > NULL_SIGMA]


def planned_runs(section: Mapping[str, Any], conditions: Sequence[str]) -> list[RunKey]:
    """Every training run: scenario x sigma x seed (paper scenarios, condition arms, label
    arms), then the benchmark's null-seed runs, then per extra noise protocol every scenario x
    noisy sigma x seed."""
    names = paper_arms(section, conditions) + condition_arms(section, conditions)
    names += label_arms(section, conditions)
    runs = [
        RunKey(name, sigma, seed)
        for name, sigma, seed in itertools.product(names, sigmas(section), seeds(section))
    ]
    benchmark = section["benchmark_scenario"]
    runs += [RunKey(benchmark, NULL_SIGMA, seed) for seed in null_seeds(section)]
    for tag in extra_protocols(section):
        runs += [
            RunKey(f"{name}.{tag}", sigma, seed)
            for name, sigma, seed in itertools.product(names, noisy_sigmas(section), seeds(section))
        ]
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
    """MSEl comparisons against the benchmark: every other scenario's run at a config seed
    (its reference: :func:`benchmark_of`, the benchmark trained with the same offsets)."""
    return [
        run
        for run in planned_runs(section, conditions)
        if run.scenario != benchmark_of(section, run.scenario) and run.seed in seeds(section)
    ]


def compared_scenarios(section: Mapping[str, Any], conditions: Sequence[str]) -> list[str]:
    """Scenarios with an MSEl file (every scenario but the benchmark arms), in run order."""
    return list(dict.fromkeys(r.scenario for r in scenario_comparisons(section, conditions)))


def scenario_order(section: Mapping[str, Any], conditions: Iterable[str]) -> list[str]:
    """Display order: paper scenarios as run (the frozen-offset benchmark after them), then
    the condition arms, per offset mode, as in the conditions table, then the label arms;
    then the same per extra noise protocol."""
    return list(dict.fromkeys(r.scenario for r in planned_runs(section, list(conditions))))
