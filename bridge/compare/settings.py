"""The ``compare:`` config section, typed, plus what it needs from the other sections.

:func:`compare_config_view` cuts the config down to the keys the stage reads (the workflow
passes only these as params, so an unrelated config change does not re-run the stage);
:func:`compare_settings` checks and types them, naming the offending key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.config import ConfigError

#: Condition label of the regressor's reference runs (bridge.regressor.run.REFERENCE_LABEL).
REGRESSOR_REFERENCE_LABEL = "reference"
#: Regressor evaluation horizons: the free run over the test span (NeuroBench's, the default
#: of claim 4), one step ahead, and the free run's first Lyapunov time (where a chaotic
#: forecast still has the series' phase; see bridge.regressor.run).
HORIZONS = ("closed_loop", "one_step", "closed_loop_first_lyapunov_time")
#: Sections whose ``paper_values`` key names their paper-values file.
PAPER_STAGES = ("autoencoder", "regressor")


@dataclass(frozen=True)
class ClaimRules:
    """``compare.claims``: when a comparison supports a claim (see config/config.yaml)."""

    min_n: int
    min_relative_effect: float
    benchmark_scenario: str
    overfiring_scenario: str
    accuracy_horizon: str
    gate_models: tuple[str, ...]
    gate_horizons: tuple[str, ...]


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
            "noise": {"sigmas": ae.get("noise", {}).get("sigmas", [])},
            "seeds": ae.get("seeds", []),
            "paper_scenarios": list(ae.get("paper_scenarios", {})),
            "run_paper_scenarios": list(
                ae.get("run_paper_scenarios", list(ae.get("paper_scenarios", {})))
            ),
            "benchmark_scenario": ae.get("benchmark_scenario"),
            "paper_values": ae.get("paper_values"),
        },
        "regressor": {
            "seeds": reg.get("seeds", []),
            "paper_values": reg.get("paper_values"),
        },
    }


def _require(section: Mapping[str, Any], key: str, where: str) -> Any:
    if section.get(key) is None:
        raise ConfigError(f"config key '{where}.{key}' is missing (needed by the compare stage)")
    return section[key]


def compare_settings(config: Mapping[str, Any], conditions: Sequence[str]) -> CompareSettings:
    """Typed settings from the full config or its :func:`compare_config_view`.

    Raises :class:`ConfigError` naming the key when the control is not a condition, when the
    noise levels lack 0 or ``compare.noisy_sigma``, or when a claim names an unknown scenario.
    """
    view = compare_config_view(config)
    section = _require(view, "compare", "<top>")
    if not section:
        raise ConfigError("config section 'compare' is missing")
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
    noisy = float(_require(section, "noisy_sigma", "compare"))
    if not any(float(s) == 0.0 for s in sigmas):
        raise ConfigError(
            f"config key 'autoencoder.noise.sigmas' {list(sigmas)} lacks 0: the compare stage "
            "needs the noiseless runs"
        )
    if not any(float(s) == noisy for s in sigmas):
        raise ConfigError(
            f"config key 'compare.noisy_sigma' = {noisy} is not one of "
            f"autoencoder.noise.sigmas {list(sigmas)}"
        )
    scenarios = tuple(view["autoencoder"]["paper_scenarios"])
    run_scenarios = tuple(view["autoencoder"]["run_paper_scenarios"])
    unknown = sorted(set(run_scenarios) - set(scenarios))
    if unknown:
        raise ConfigError(
            f"config key 'autoencoder.run_paper_scenarios': {unknown} not in "
            f"autoencoder.paper_scenarios {list(scenarios)}"
        )
    claims_cfg = _require(section, "claims", "compare")
    # The paper's benchmark is the autoencoder stage's (its MSEl reference), not a copy.
    pair = {
        "autoencoder.benchmark_scenario": _require(
            view["autoencoder"], "benchmark_scenario", "autoencoder"
        ),
        "compare.claims.overfiring_scenario": _require(
            claims_cfg, "overfiring_scenario", "compare.claims"
        ),
    }
    for key, name in pair.items():
        if name not in scenarios:
            raise ConfigError(
                f"config key '{key}' = {name!r} is not one of "
                f"autoencoder.paper_scenarios {list(scenarios)}"
            )
    claims = ClaimRules(
        min_n=int(claims_cfg["min_n"]),
        min_relative_effect=float(claims_cfg["min_relative_effect"]),
        benchmark_scenario=str(pair["autoencoder.benchmark_scenario"]),
        overfiring_scenario=str(pair["compare.claims.overfiring_scenario"]),
        accuracy_horizon=str(claims_cfg["accuracy_horizon"]),
        gate_models=tuple(claims_cfg["gate_models"]),
        gate_horizons=tuple(claims_cfg["gate_horizons"]),
    )
    if claims.accuracy_horizon not in HORIZONS:
        raise ConfigError(f"config key 'compare.claims.accuracy_horizon': one of {HORIZONS}")
    stats_cfg = _require(section, "statistics", "compare")
    return CompareSettings(
        conditions=conditions,
        reference_condition=str(reference),
        reference_current_uA_cm2=float(_require(section, "reference_current_uA_cm2", "compare")),
        noisy_sigma=noisy,
        confidence=float(stats_cfg["confidence"]),
        min_n_p_value=int(stats_cfg["min_n_p_value"]),
        claims=claims,
        paper_scenarios=run_scenarios,
        ae_sigmas=tuple(float(s) for s in sigmas),
        ae_seeds=tuple(int(s) for s in view["autoencoder"]["seeds"]),
        regressor_seeds=tuple(int(s) for s in view["regressor"]["seeds"]),
        paper_values={
            stage: str(_require(view[stage], "paper_values", stage)) for stage in PAPER_STAGES
        },
    )
