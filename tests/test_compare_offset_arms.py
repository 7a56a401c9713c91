"""The compare stage with both offset arms of the autoencoder: frozen condition arms are paired
with the frozen control and gated on the frozen benchmark, trained with trained, and a
condition whose mapping left beta unidentified is marked and tallied apart."""

from __future__ import annotations

import json

import pytest

from bridge.compare.claims import SUPPORTED, claim_tally, evaluate_claims
from bridge.compare.collect import collect_runs
from bridge.compare.comparisons import KIND_CONDITION, KIND_SCENARIO, stats_table
from bridge.compare.conditions import conditions_markdown, conditions_table
from bridge.compare.paths import autoencoder_metrics_path, autoencoder_scenarios
from bridge.config.autoencoder import split_arm
from bridge.config.compare import compare_settings
from tests.compare_fixtures import CONDITIONS, default_ae, small_config, write_stage_outputs

#: Every frozen-offset run's MSE is this much above its trained twin's (still below the
#: mean-image baseline, so the gates pass): a frozen arm paired with a trained one shows it.
FROZEN_SHIFT = 0.01
UNIDENTIFIED = "hyperexcitable"


def arms_ae(scenario: str, sigma: float, seed: int):
    base, offsets = split_arm(scenario)
    mse, rates = default_ae(base, sigma, seed)
    return mse + (FROZEN_SHIFT if offsets == "frozen" else 0.0), rates


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory):
    results = tmp_path_factory.mktemp("arms") / "results"
    config = small_config()
    config["autoencoder"]["condition_offsets"] = ["trained", "frozen"]
    settings = compare_settings(config, CONDITIONS)
    write_stage_outputs(results, config, ae=arms_ae)
    for scenario in autoencoder_scenarios(settings):
        if split_arm(scenario)[0] != f"cond_{UNIDENTIFIED}":
            continue
        for sigma in settings.ae_sigmas:
            for seed in settings.ae_seeds:
                path = autoencoder_metrics_path(results, scenario, sigma, seed)
                doc = json.loads(path.read_text())
                path.write_text(json.dumps({**doc, "beta_unidentified": True}))
    collection = collect_runs(settings, results)
    return settings, collection


def test_expected_runs_hold_both_arms_and_the_frozen_benchmark(collected) -> None:
    settings, collection = collected
    scenarios = autoencoder_scenarios(settings)
    assert "s1_benchmark.frozen" in scenarios
    assert {f"cond_{c}.frozen" for c in CONDITIONS} <= set(scenarios)
    runs = collection.runs
    frozen = runs[runs["scenario"] == "cond_control.frozen"]
    assert len(frozen) and set(frozen["condition"]) == {"control"}
    ae_gaps = collection.gaps[collection.gaps["stage"] == "autoencoder"]
    assert ae_gaps.empty, ae_gaps


def test_stats_pair_frozen_with_frozen(collected) -> None:
    settings, collection = collected
    stats = stats_table(collection.runs, settings)
    mse = stats[(stats["metric"] == "test_mse_final") & (stats["sigma"] == 0.0)]
    cond = mse[(mse["kind"] == KIND_CONDITION) & (mse["group"] == "intermediate")]
    by_arm = cond.set_index("offsets")
    assert set(by_arm.index) == {"trained", "frozen"}
    # Same condition effect in both arms; each arm's reference is its own control.
    assert by_arm.loc["frozen", "mean_diff"] == pytest.approx(by_arm.loc["trained", "mean_diff"])
    assert by_arm.loc["frozen", "mean_reference"] == pytest.approx(
        by_arm.loc["trained", "mean_reference"] + FROZEN_SHIFT
    )
    scen = mse[(mse["kind"] == KIND_SCENARIO) & (mse["group"] == "cond_intermediate.frozen")]
    assert list(scen["reference"]) == ["s1_benchmark.frozen"]
    assert scen["mean_diff"].iloc[0] == pytest.approx(0.004)
    flags = cond.set_index("offsets")["beta_unidentified"]
    assert not flags.any()
    hyper = mse[(mse["kind"] == KIND_CONDITION) & (mse["group"] == UNIDENTIFIED)]
    assert hyper["beta_unidentified"].all() and len(hyper) == 2


def test_claims_keep_arms_and_unidentified_conditions_apart(collected) -> None:
    settings, collection = collected
    claims = evaluate_claims(collection.runs, settings)
    degrade = claims[claims["claim"] == "overfiring_degrades"].set_index("comparison")
    frozen = degrade.loc["intermediate − control (frozen offsets)"]
    assert frozen["offsets"] == "frozen" and frozen["verdict"] == SUPPORTED
    assert "s1_benchmark.frozen" in frozen["gate"] and "cond_control.frozen" in frozen["gate"]
    assert "s1_benchmark.frozen" not in degrade.loc["intermediate − control", "gate"]
    assert frozen["mean_diff"] == pytest.approx(0.004)
    assert bool(degrade.loc["hyperexcitable − control (frozen offsets)", "beta_unidentified"])
    assert not degrade.loc["intermediate − control", "beta_unidentified"]
    tally = claim_tally(claims, "overfiring_degrades")
    # trained: the paper's pair and intermediate; frozen: intermediate; hyperexcitable apart
    assert tally == (
        "trained offsets: 2 supported of 2 evaluable comparison(s) (0 not evaluable); "
        "frozen offsets: 1 supported of 1 evaluable comparison(s) (0 not evaluable); "
        "kept apart (beta unidentified in the mapping): 2 comparison(s), 2 supported of 2 "
        "evaluable comparison(s) (0 not evaluable)"
    )


def test_conditions_table_has_the_frozen_arm_and_the_mark(collected) -> None:
    settings, collection = collected
    table = conditions_table(collection.runs, collection.gaps, settings).set_index("condition")
    values = [0.030, 0.032, 0.029]
    assert table.loc["control", "ae_test_mse_noiseless_mean"] == pytest.approx(sum(values) / 3)
    assert table.loc["control", "ae_frozen_test_mse_noiseless_mean"] == pytest.approx(
        sum(values) / 3 + FROZEN_SHIFT
    )
    assert table["ae_beta_unidentified"].to_dict() == {
        "control": False,
        "intermediate": False,
        "hyperexcitable": True,
    }
    text = conditions_markdown(table.reset_index(), settings, "provenance")
    assert "`cond_<condition>.frozen`" in text and "β unidentified" in text
