"""Where every stage writes the per-condition and per-run files the comparison reads.

Their contents are the stage contracts (bridge.contracts, docs/contracts.md); the workflow
lists :func:`expected_files` as the comparison's inputs, so a new condition, seed or noise
level re-runs the comparison and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.config.autoencoder import arm_name, split_arm
from bridge.config.compare import CompareSettings
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL
from bridge.neurons.registry import CONDITION_MODELS, MODEL_NAMES

#: Autoencoder scenario name of a condition (the autoencoder stage's naming contract).
CONDITION_SCENARIO_PREFIX = "cond_"
METRICS_FILE = "metrics.json"
#: Offset arms of the autoencoder (bridge.config.autoencoder.OFFSET_MODES): "trained" keeps the
#: tutorial's trainable layer biases and BatchNorm shifts, "frozen" fixes them at 0.
TRAINED, FROZEN = "trained", "frozen"


def condition_scenario(condition: str, offsets: str = TRAINED) -> str:
    """The autoencoder scenario that carries ``condition``'s mapped parameters, trained with
    ``offsets`` (``cond_<condition>`` or ``cond_<condition>.frozen``)."""
    return arm_name(f"{CONDITION_SCENARIO_PREFIX}{condition}", offsets)


def label_scenario(condition: str) -> str:
    """The autoencoder's label-mapping arm of ``condition`` (``cond_<condition>.label``: beta
    = exp(-gnabar), the benchmark's alpha, beta_syn and bias; autoencoder.label_arm), compared
    with :func:`condition_scenario` (the fitted beta) at the same seed."""
    return arm_name(f"{CONDITION_SCENARIO_PREFIX}{condition}", TRAINED, label=True)


def benchmark_arm(settings: CompareSettings, offsets: str = TRAINED) -> str:
    """The benchmark trained with ``offsets``: the reference of that arm's comparisons."""
    return arm_name(settings.claims.benchmark_scenario, offsets)


def scenario_condition(scenario: str) -> str:
    """The condition of a condition arm; '' for a paper scenario (either offset mode)."""
    base = split_arm(scenario)[0]
    if base.startswith(CONDITION_SCENARIO_PREFIX):
        return base.removeprefix(CONDITION_SCENARIO_PREFIX)
    return ""


@dataclass(frozen=True)
class RunKey:
    """Identifies one output of one stage; empty strings / None where a field does not apply.

    ``stage`` is hh, mapping, autoencoder or regressor; ``condition`` is empty for the
    autoencoder's paper scenarios and ``reference`` for the regressor's AdLIF runs.
    """

    stage: str
    condition: str = ""
    scenario: str = ""
    model: str = ""
    sigma: float | None = None
    seed: int | None = None

    def label(self) -> str:
        """Human-readable identity for warnings and tables."""
        parts = [self.stage, self.condition, self.scenario, self.model]
        if self.sigma is not None:
            parts.append(f"sigma {self.sigma:g}")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        return " / ".join(p for p in parts if p)


def hh_summary_path(results_dir: str | Path, condition: str) -> Path:
    return Path(results_dir) / "hh" / condition / "summary.json"


def hh_fi_curve_path(results_dir: str | Path, condition: str) -> Path:
    return Path(results_dir) / "hh" / condition / "fi_curve.csv"


def mapping_path(results_dir: str | Path, condition: str) -> Path:
    return Path(results_dir) / "mapping" / f"{condition}.json"


def sigma_label(sigma: float | int) -> str:
    """Folder label of a noise level: ``0``, ``0.2``, ``0.25`` (the shortest exact decimal,
    no trailing ``.0``): the autoencoder stage's contract (bridge.autoencoder.scenarios)."""
    label = repr(float(sigma))
    return label[:-2] if label.endswith(".0") else label


def autoencoder_metrics_path(
    results_dir: str | Path, scenario: str, sigma: float | int, seed: int
) -> Path:
    """``{results}/autoencoder/{scenario}/sigma{label}/seed{seed}/metrics.json``."""
    run = Path(results_dir) / "autoencoder" / scenario / f"sigma{sigma_label(sigma)}"
    return run / f"seed{seed}" / METRICS_FILE


def regressor_metrics_path(results_dir: str | Path, condition: str, model: str, seed: int) -> Path:
    return Path(results_dir) / "regressor" / condition / model / f"seed{seed}" / METRICS_FILE


def autoencoder_scenarios(settings: CompareSettings) -> tuple[str, ...]:
    """The paper's scenarios that run (and the frozen-offset benchmark when a frozen condition
    arm runs), then the condition arms per offset mode, then the label-mapping arms when
    ``autoencoder.label_arm`` (the autoencoder stage's order; main noise protocol)."""
    paper = settings.paper_scenarios
    if settings.conditions and FROZEN in settings.ae_condition_offsets:
        paper += (benchmark_arm(settings, FROZEN),)
    arms = tuple(
        condition_scenario(c, mode)
        for mode in settings.ae_condition_offsets
        for c in settings.conditions
    )
    labels = tuple(label_scenario(c) for c in settings.conditions) if settings.ae_label_arm else ()
    return paper + arms + labels


def protocol_scenario(scenario: str, protocol: str) -> str:
    """``scenario`` trained under the extra noise protocol ``protocol`` (its tag)."""
    return f"{scenario}.{protocol}"


def expected_runs(settings: CompareSettings, results_dir: str | Path) -> list[tuple[RunKey, Path]]:
    """Every per-run network file the config implies, with its key (autoencoder first; runs
    of an extra noise protocol at its noisy sigmas only)."""
    runs: list[tuple[RunKey, Path]] = []
    main = [(s, settings.ae_sigmas) for s in autoencoder_scenarios(settings)]
    noisy = tuple(s for s in settings.ae_sigmas if s > 0)
    extra = [
        (protocol_scenario(s, tag), noisy)
        for tag in settings.ae_extra_protocols
        for s in autoencoder_scenarios(settings)
    ]
    for scenario, sigmas in main + extra:
        condition = scenario_condition(scenario)
        for sigma in sigmas:
            for seed in settings.ae_seeds:
                key = RunKey("autoencoder", condition, scenario, "", float(sigma), seed)
                runs.append((key, autoencoder_metrics_path(results_dir, scenario, sigma, seed)))
    for condition in settings.conditions:
        for model in CONDITION_MODELS:
            for seed in settings.regressor_seeds:
                key = RunKey("regressor", condition, "", model, None, seed)
                runs.append((key, regressor_metrics_path(results_dir, condition, model, seed)))
    # The trained arms: every model, its neuron parameters trained (condition "reference").
    for model in MODEL_NAMES:
        for seed in settings.regressor_seeds:
            key = RunKey("regressor", REGRESSOR_REFERENCE_LABEL, "", model, None, seed)
            path = regressor_metrics_path(results_dir, REGRESSOR_REFERENCE_LABEL, model, seed)
            runs.append((key, path))
    return runs


def expected_files(settings: CompareSettings, results_dir: str | Path) -> dict[str, list[str]]:
    """Every file the comparison reads, grouped by stage (the workflow's named inputs)."""
    runs = expected_runs(settings, results_dir)
    return {
        "hh_summaries": [str(hh_summary_path(results_dir, c)) for c in settings.conditions],
        "hh_fi_curves": [str(hh_fi_curve_path(results_dir, c)) for c in settings.conditions],
        "mappings": [str(mapping_path(results_dir, c)) for c in settings.conditions],
        "autoencoder": [str(p) for k, p in runs if k.stage == "autoencoder"],
        "regressor": [str(p) for k, p in runs if k.stage == "regressor"],
    }
