"""The ``compare:`` section, and the compare stage's typed view of the whole config.

:func:`compare_config_view` cuts the config down to the keys the stage reads (the workflow
passes only these as params, so an unrelated config change does not re-run the stage);
:func:`compare_settings` checks and types them, naming the offending key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import AfterValidator, Field

from bridge.config.autoencoder import protocol_tag
from bridge.config.base import (
    ConfigError,
    Float,
    Int,
    Name,
    NonNegativeFloat,
    OpenUnitFloat,
    PositiveFloat,
    Section,
    Str,
    field,
    unique,
)
from bridge.config.regressor import RegressorModel

#: Regressor evaluation horizons: the free run over the test span (NeuroBench's, the default
#: of claim 4), one step ahead, and the free run's first Lyapunov time (where a chaotic
#: forecast still has the series' phase; see bridge.regressor.stage).
Horizon = Literal["closed_loop", "one_step", "closed_loop_first_lyapunov_time"]
#: Sections whose ``paper_values`` key names their paper-values file.
PAPER_STAGES = ("autoencoder", "regressor")


class StatisticsConfig(Section):
    """Paired statistics over seeds."""

    confidence: OpenUnitFloat = field(
        "level of the two-sided t interval of the mean paired difference, in (0, 1)"
    )
    min_n_p_value: Annotated[Int, Ge(2)] = field(
        "paired t-test p-values only from this many paired seeds on (count, >= 2)"
    )


class ClaimsConfig(Section):
    """When a comparison supports, contradicts or cannot decide a claim
    (:mod:`bridge.compare.verdicts`)."""

    min_n: Annotated[Int, Ge(3)] = field(
        "fewer paired seeds than this: a point estimate, no verdict (count, >= 3: a verdict "
        "needs at least 3 paired seeds)"
    )
    min_relative_effect: NonNegativeFloat = field(
        "effect floor, as a fraction of the reference mean; the floor used is the larger of "
        "this and the median difference between benchmark runs of two seeds"
    )
    power: OpenUnitFloat = field(
        "power at which an inconclusive comparison's minimum detectable effect is reported, "
        "in (0, 1)"
    )
    equivalence_margin: PositiveFloat = field(
        "claim 2: the mean layer rate counts as not raised when the two one-sided tests put "
        "its change inside +- this fraction of the reference mean rate"
    )
    overfiring_scenario: Name = field(
        "the paper's overfiring-like scenario compared with autoencoder.benchmark_scenario "
        "(one of autoencoder.paper_scenarios)"
    )
    accuracy_horizons: Annotated[
        tuple[Horizon, ...], Field(min_length=1), AfterValidator(unique)
    ] = field(
        "horizons at which claim 4's accuracy must hold, all of them (one_step, "
        "closed_loop_first_lyapunov_time; closed_loop, the full free run, is reported only: "
        "there every forecast of a chaotic series has lost its phase)"
    )
    gate_models: Annotated[tuple[RegressorModel, ...], AfterValidator(unique)] = field(
        "claim 4 is not evaluable unless these trained models beat the repeat-last-value "
        "baseline's R2"
    )
    gate_horizons: Annotated[tuple[Horizon, ...], Field(min_length=1), AfterValidator(unique)] = (
        field("horizons at which the gate models must beat the baseline")
    )


class CompareConfig(Section):
    """The ``compare:`` section: cross-stage tables, paired statistics, claims, summary.

    The control of every 'condition minus control' comparison is mapping.reference_condition.
    """

    reference_current_uA_cm2: Float = field(
        "step amplitude at which the HH firing rate is read off each f-I curve, uA/cm2 "
        "(linear interpolation between grid amplitudes)"
    )
    noisy_sigma: PositiveFloat = field(
        "noise level of the 'noisy' columns and the noise-compensation claim (one of "
        "autoencoder.noise.sigmas, which must also hold 0)"
    )
    statistics: StatisticsConfig
    claims: ClaimsConfig


class ClaimRules(ClaimsConfig):
    """``compare.claims`` with the benchmark scenario (``autoencoder.benchmark_scenario``)."""

    benchmark_scenario: Str = field("the MSEl reference scenario of the autoencoder stage")


@dataclass(frozen=True)
class CompareSettings:
    """Everything the comparison stage needs to know about which runs exist and how to judge.

    ``paper_scenarios`` are the paper's scenarios that the autoencoder stage runs
    (``autoencoder.run_paper_scenarios`` where the config has it, else all of
    ``autoencoder.paper_scenarios``). ``paper_values``: stage -> its paper-values file
    (``autoencoder.paper_values``, ``regressor.paper_values``). The claims' benchmark scenario
    is ``autoencoder.benchmark_scenario``.
    """

    conditions: tuple[str, ...]
    reference_condition: str
    reference_current_uA_cm2: float
    noisy_sigma: float
    confidence: float
    min_n_p_value: int
    claims: ClaimRules
    paper_scenarios: tuple[str, ...]
    ae_sigmas: tuple[float, ...]
    ae_seeds: tuple[int, ...]
    regressor_seeds: tuple[int, ...]
    paper_values: Mapping[str, str]
    #: ``autoencoder.condition_offsets``: the condition arms' offset modes (trained, frozen).
    ae_condition_offsets: tuple[str, ...] = ("trained",)
    #: ``autoencoder.label_arm``: each condition also runs ``cond_<c>.label`` (beta exp(-gNa)).
    ae_label_arm: bool = False
    #: Tags (``<sampling>_<target>``) of the noise protocols beyond the main one
    #: (``autoencoder.noise.protocols[1:]``): their runs exist at the noisy sigmas only.
    ae_extra_protocols: tuple[str, ...] = ()
    #: Stage -> the training protocol in words (:func:`protocol_labels`), on every verdict.
    protocols: Mapping[str, str] = dataclass_field(default_factory=dict)

    @property
    def noiseless_sigma(self) -> float:
        return 0.0


def compare_config_view(config: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of the full config that the comparison stage reads."""
    ae = config.get("autoencoder", {})
    reg = config.get("regressor", {})
    return {
        "compare": config.get("compare", {}),
        "mapping": {"reference_condition": config.get("mapping", {}).get("reference_condition")},
        "autoencoder": {
            "noise": {
                "sigmas": ae.get("noise", {}).get("sigmas", []),
                "protocols": ae.get("noise", {}).get("protocols", []),
            },
            "label_arm": bool(ae.get("label_arm", False)),
            "seeds": ae.get("seeds", []),
            "paper_scenarios": list(ae.get("paper_scenarios", {})),
            "run_paper_scenarios": list(
                ae.get("run_paper_scenarios", list(ae.get("paper_scenarios", {})))
            ),
            "benchmark_scenario": ae.get("benchmark_scenario"),
            "paper_values": ae.get("paper_values"),
            "condition_offsets": list(ae.get("condition_offsets", ["trained"])),
            # What the protocol labels on the verdicts say.
            "data": ae.get("data", {}),
            "training": {k: ae.get("training", {}).get(k) for k in ("epochs", "lr")},
            "model": {"precision": ae.get("model", {}).get("precision")},
        },
        "regressor": {
            "seeds": reg.get("seeds", []),
            "paper_values": reg.get("paper_values"),
            "n_hidden": reg.get("n_hidden"),
            "training": {k: reg.get("training", {}).get(k) for k in ("epochs", "learning_rate")},
        },
    }


#: Training digits of the full MNIST set (autoencoder.data.source mnist_idx).
MNIST_TRAIN_DIGITS = 60_000


def protocol_labels(view: Mapping[str, Any]) -> dict[str, str]:
    """Stage -> its training protocol in words, from :func:`compare_config_view`'s view
    (e.g. 'autoencoder: 4,000 training digits (embedded), 12 epochs, lr 0.001, bf16')."""
    ae, reg = view.get("autoencoder", {}), view.get("regressor", {})
    data, training = ae.get("data", {}), ae.get("training", {})
    source = data.get("source")
    digits = data.get("n_train_embedded") if source == "embedded" else MNIST_TRAIN_DIGITS
    labels = {"mapping": "mapping: deterministic fit to the HH cell (no seeds)"}
    protocols = ae.get("noise", {}).get("protocols") or [{}]
    main = protocols[0]
    noise = (
        f"noise {main.get('sampling', 'per_image').replace('_', '-')}, "
        f"{main.get('target', 'clean')} target"
    )
    if training.get("epochs") is not None:
        labels["autoencoder"] = (
            f"autoencoder: {digits:,} training digits ({source}), {training['epochs']} epochs, "
            f"lr {training.get('lr'):g}, {ae.get('model', {}).get('precision') or 'fp32'}, "
            f"{noise}"
        )
    reg_training = reg.get("training", {})
    if reg_training.get("epochs") is not None:
        labels["regressor"] = (
            f"regressor: {reg.get('n_hidden')} hidden, {reg_training['epochs']} epochs, "
            f"lr {reg_training.get('learning_rate'):g}"
        )
    return labels


def _require(section: Mapping[str, Any], key: str, where: str) -> Any:
    if section.get(key) is None:
        raise ConfigError(f"config key '{where}.{key}' is missing (needed by the compare stage)")
    return section[key]


def cross_section_problems(
    sigmas: Sequence[float], noisy_sigma: float, scenarios: Sequence[str], named: Mapping[str, str]
) -> list[tuple[str, str]]:
    """What the compare stage finds wrong in the other sections, as (dotted key, why).

    It needs the noiseless runs and those at ``compare.noisy_sigma``, and each scenario in
    ``named`` (dotted key -> scenario) must be one of ``scenarios`` (the paper's).
    """
    levels = [float(s) for s in sigmas]
    problems = []
    if 0.0 not in levels:
        problems.append(
            (
                "autoencoder.noise.sigmas",
                f"{list(sigmas)} lacks 0: the compare stage needs the noiseless runs",
            )
        )
    elif noisy_sigma not in levels:
        problems.append(
            (
                "compare.noisy_sigma",
                f"{noisy_sigma} is not one of autoencoder.noise.sigmas {list(sigmas)}",
            )
        )
    problems += [
        (key, f"{name!r} is not one of autoencoder.paper_scenarios {list(scenarios)}")
        for key, name in named.items()
        if name not in scenarios
    ]
    return problems


def compare_settings(config: Mapping[str, Any], conditions: Sequence[str]) -> CompareSettings:
    """Typed settings from the full config or its :func:`compare_config_view`.

    Raises :class:`ConfigError` naming the key when the control is not a condition, when the
    noise levels lack 0 or ``compare.noisy_sigma``, or when a claim names an unknown scenario.
    """
    view = compare_config_view(config)
    if not view["compare"]:
        raise ConfigError("config section 'compare' is missing")
    section = CompareConfig.from_config(view["compare"], "compare")
    conditions = tuple(conditions)
    if not conditions:
        raise ConfigError("compare: no conditions given")
    reference = view["mapping"]["reference_condition"]
    if reference not in conditions:
        raise ConfigError(
            f"config key 'mapping.reference_condition': {reference!r} is not a condition "
            f"(conditions: {list(conditions)})"
        )
    sigmas = tuple(view["autoencoder"]["noise"]["sigmas"])
    scenarios = tuple(view["autoencoder"]["paper_scenarios"])
    run_scenarios = tuple(view["autoencoder"]["run_paper_scenarios"])
    unknown = sorted(set(run_scenarios) - set(scenarios))
    if unknown:
        raise ConfigError(
            f"config key 'autoencoder.run_paper_scenarios': {unknown} not in "
            f"autoencoder.paper_scenarios {list(scenarios)}"
        )
    # The paper's benchmark is the autoencoder stage's (its MSEl reference), not a copy.
    benchmark = _require(view["autoencoder"], "benchmark_scenario", "autoencoder")
    problems = cross_section_problems(
        sigmas,
        section.noisy_sigma,
        scenarios,
        {
            "autoencoder.benchmark_scenario": benchmark,
            "compare.claims.overfiring_scenario": section.claims.overfiring_scenario,
        },
    )
    if problems:
        raise ConfigError("config key '{}': {}".format(*problems[0]))
    claims = ClaimRules(**dict(section.claims), benchmark_scenario=str(benchmark))
    return CompareSettings(
        conditions=conditions,
        reference_condition=str(reference),
        reference_current_uA_cm2=section.reference_current_uA_cm2,
        noisy_sigma=section.noisy_sigma,
        confidence=section.statistics.confidence,
        min_n_p_value=section.statistics.min_n_p_value,
        claims=claims,
        paper_scenarios=run_scenarios,
        ae_sigmas=tuple(float(s) for s in sigmas),
        ae_seeds=tuple(int(s) for s in view["autoencoder"]["seeds"]),
        regressor_seeds=tuple(int(s) for s in view["regressor"]["seeds"]),
        ae_condition_offsets=tuple(str(m) for m in view["autoencoder"]["condition_offsets"]),
        paper_values={
            stage: str(_require(view[stage], "paper_values", stage)) for stage in PAPER_STAGES
        },
        protocols=protocol_labels(view),
        ae_label_arm=bool(view["autoencoder"]["label_arm"]),
        ae_extra_protocols=tuple(
            protocol_tag(p["sampling"], p["target"])
            for p in view["autoencoder"]["noise"]["protocols"][1:]
        ),
    )
