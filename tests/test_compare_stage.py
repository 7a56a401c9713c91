"""The comparison stage on small hand-made stage outputs: table values, gaps, summary."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from bridge.compare import stage
from bridge.compare.collect import collect_runs
from bridge.compare.paths import autoencoder_metrics_path, regressor_metrics_path
from bridge.config import ConfigError
from bridge.config.compare import compare_settings
from tests.compare_fixtures import CONDITIONS, small_config, write_stage_outputs


def run_stage(tmp_path: Path, config: dict, conditions=CONDITIONS) -> dict[str, Path]:
    results = tmp_path / "results"
    out = {
        name: results / "compare" / name
        for name in ("runs.csv", "gaps.csv", "conditions.csv", "conditions.md", "conditions.html",
                     "stats.csv", "stats.md", "stats.html", "claims.csv", "summary.html")
    }  # fmt: skip
    out["summary.md"] = results / "summary.md"
    names = list(conditions)
    stage.collect(config, names, results, out["runs.csv"], out["gaps.csv"])
    stage.write_conditions(config, names, out["runs.csv"], out["gaps.csv"],
                           out["conditions.csv"], out["conditions.md"], out["conditions.html"])  # fmt: skip
    stage.write_stats(
        config, names, out["runs.csv"], out["stats.csv"], out["stats.md"], out["stats.html"]
    )
    stage.write_summary(config, names, out["runs.csv"], out["gaps.csv"], tmp_path / "none_ae.yaml",
                        tmp_path / "none_reg.yaml", out["claims.csv"], out["summary.md"],
                        out["summary.html"])  # fmt: skip
    return out


@pytest.fixture
def config() -> dict:
    return small_config()


@pytest.fixture
def complete(tmp_path: Path, config: dict) -> dict[str, Path]:
    write_stage_outputs(tmp_path / "results", config)
    return run_stage(tmp_path, config)


def row(table: pd.DataFrame, condition: str) -> pd.Series:
    return table.set_index("condition").loc[condition]


def test_conditions_table_values(complete: dict[str, Path]) -> None:
    table = pd.read_csv(complete["conditions.csv"])
    assert list(table["condition"]) == list(CONDITIONS)
    control, hyper = row(table, "control"), row(table, "hyperexcitable")
    # HH: rate at 10 uA/cm2 straight off the f-I grid; the noise run's ISI CV; block flag.
    assert control["hh_rate_at_reference_hz"] == 70.0 and hyper["hh_rate_at_reference_hz"] == 110
    assert not control["hh_rate_at_reference_interpolated"]
    assert hyper["hh_isi_cv_noise"] == pytest.approx(0.08) and bool(hyper["hh_block"])
    assert (
        pd.isna(hyper["hh_rheobase_single_uA_cm2"]) and control["hh_rheobase_single_uA_cm2"] == 2.5
    )
    assert hyper["gnabar"] == 1.0 and control["beta_fit"] == pytest.approx(0.70)
    assert hyper["mtc_a_fast"] == pytest.approx(-2.1) and hyper["map_lif_status"] == "ok"
    # the mapping's held-out validation travels: Gamma and the flags (compare_fixtures)
    assert control["map_lif_gamma"] == pytest.approx(0.05)
    assert control["map_mtc_gamma"] == pytest.approx(0.15)
    assert control["map_lif_validation_flags"] == "timing_below_floor"
    # Autoencoder, cond_control at sigma 0: 0.030 + seed jitter (0, 0.002, -0.001).
    values = [0.030, 0.032, 0.029]
    assert control["ae_test_mse_noiseless_mean"] == pytest.approx(sum(values) / 3)
    assert control["ae_test_mse_noiseless_sd"] == pytest.approx(pd.Series(values).std())
    assert control["ae_test_mse_noiseless_n"] == 3
    # Noisy (sigma 0.2): + 0.2 * 0.05, and hyperexcitable's 0.010 penalty shrinks to 0.004.
    assert hyper["ae_test_mse_noisy_mean"] == pytest.approx(sum(values) / 3 + 0.01 + 0.004)
    assert hyper["ae_msed_train_noiseless_mean"] == pytest.approx(10 * (sum(values) / 3 + 0.01))
    rates = [0.2, 0.16, 0.19, 0.55]
    assert hyper["ae_mean_layer_rate_noiseless_mean"] == pytest.approx(
        sum(rates) / 4 + (0.0 + 0.002 - 0.001) / 3
    )
    # Regressor: R2 0.40 +- 0.01 (seeds 1..3), LIF S_comm 0.1.
    assert control["reg_mtc_r2_closed_loop_mean"] == pytest.approx(0.40)
    assert control["reg_mtc_r2_closed_loop_sd"] == pytest.approx(0.01)
    assert control["reg_mtc_r2_one_step_mean"] == pytest.approx(0.90)
    assert hyper["reg_lif_s_comm_one_step_mean"] == pytest.approx(0.1)
    assert hyper["reg_lif_s_comm_one_step_n"] == 3
    # Nulls with a stated reason are gaps too (rheobase, beta_membrane of cells firing at rest).
    assert control["n_gaps"] == 0 and hyper["n_gaps"] == 3
    assert "NaN" not in complete["conditions.csv"].read_text()


def test_stats_condition_minus_control(complete: dict[str, Path]) -> None:
    stats = pd.read_csv(complete["stats.csv"])
    pick = stats[(stats["kind"] == "condition - control") & (stats["group"] == "hyperexcitable")
                 & (stats["metric"] == "test_mse_final") & (stats["sigma"] == 0)]  # fmt: skip
    assert len(pick) == 1
    assert pick["mean_diff"].iloc[0] == pytest.approx(0.010) and pick["n"].iloc[0] == 3
    assert pd.isna(pick["p_value"].iloc[0])
    model = stats[(stats["kind"] == "model - model") & (stats["group"] == "reference")
                  & (stats["reference_model"] == "adlif")
                  & (stats["metric"] == "s_comm_one_step")]  # fmt: skip
    assert model["mean_diff"].iloc[0] == pytest.approx(0.002 - 0.04)
    mapped = stats[(stats["kind"] == "mapped - trained") & (stats["group"] == "control")
                   & (stats["model"] == "lif") & (stats["metric"] == "r2_closed_loop")]  # fmt: skip
    assert len(mapped) == 1 and mapped["mean_diff"].iloc[0] == pytest.approx(0.0)


def test_missing_metric_and_file_give_gaps_and_warnings(
    tmp_path: Path, config: dict, caplog: pytest.LogCaptureFixture
) -> None:
    results = tmp_path / "results"
    write_stage_outputs(results, config)
    ae_path = autoencoder_metrics_path(results, "cond_intermediate", 0.0, 999)
    doc = json.loads(ae_path.read_text())
    del doc["test_mse_final"]
    ae_path.write_text(json.dumps(doc))
    reg_path = regressor_metrics_path(results, "hyperexcitable", "mtc", 2)
    reg_path.unlink()
    skipped = regressor_metrics_path(results, "intermediate", "lif", 1)
    skipped.write_text(json.dumps({"condition": "intermediate", "model": "lif", "seed": 1,
                                   "status": "skipped", "reason": "mapping unusable"}))  # fmt: skip
    with caplog.at_level(logging.WARNING):
        out = run_stage(tmp_path, config)
    warned = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert str(ae_path) in warned and "test_mse_final" in warned
    assert str(reg_path) in warned and "file_missing" in warned
    assert str(skipped) in warned and "mapping unusable" in warned
    table = pd.read_csv(out["conditions.csv"])
    inter, hyper = row(table, "intermediate"), row(table, "hyperexcitable")
    assert inter["ae_test_mse_noiseless_n"] == 2
    assert inter["ae_test_mse_noiseless_mean"] == pytest.approx((0.034 + 0.033) / 2)
    assert inter["ae_msed_train_noiseless_n"] == 3  # the rest of that file still counts
    assert hyper["reg_mtc_r2_closed_loop_n"] == 2 and inter["reg_lif_r2_closed_loop_n"] == 2
    gaps = pd.read_csv(out["gaps.csv"])
    kinds = set(gaps["kind"])
    assert {"key_missing", "file_missing", "run_skipped"} <= kinds
    assert str(ae_path) in set(gaps["file"])
    summary = out["summary.md"].read_text()
    assert "file missing × 1" in summary and "run skipped × 1" in summary


def test_summary_mentions_every_condition_even_without_any_file(
    tmp_path: Path, config: dict
) -> None:
    write_stage_outputs(tmp_path / "results", config)
    conditions = [*CONDITIONS, "mutant_nav16"]
    out = run_stage(tmp_path, config, conditions)
    summary = out["summary.md"].read_text()
    for name in conditions:
        assert f"**{name}**" in summary
        assert f"`{name}`" in summary
    table = pd.read_csv(out["conditions.csv"])
    mutant = row(table, "mutant_nav16")
    assert mutant["ae_test_mse_noiseless_n"] == 0 and pd.isna(mutant["ae_test_mse_noiseless_mean"])
    assert mutant["n_gaps"] > 0
    assert "mutant_nav16" in out["conditions.md"].read_text()
    assert "— (n=0)" in out["conditions.md"].read_text()
    claims = pd.read_csv(out["claims.csv"])
    mutant_rows = claims[claims["comparison"].str.contains("mutant_nav16")]
    # Claims 1-3 and the bridge's claim 5 (claim 4 is on the trained arms, no condition).
    assert len(mutant_rows) == 4 and set(mutant_rows["verdict"]) == {"not evaluable"}


def test_outputs_are_byte_identical_on_rerun(tmp_path: Path, config: dict) -> None:
    write_stage_outputs(tmp_path / "results", config)
    first = {k: p.read_bytes() for k, p in run_stage(tmp_path, config).items()}
    second = {k: p.read_bytes() for k, p in run_stage(tmp_path, config).items()}
    assert first == second
    sidecar = json.loads((tmp_path / "results" / "compare" / "runs.provenance.json").read_text())
    assert sidecar["config_hash"] and sidecar["git_commit"] and sidecar["table"] == "runs.csv"


def test_reference_current_off_the_grid_is_interpolated(tmp_path: Path, config: dict) -> None:
    write_stage_outputs(tmp_path / "results", config)
    config["compare"]["reference_current_uA_cm2"] = 7.5
    found = collect_runs(compare_settings(config, CONDITIONS), tmp_path / "results")
    rate = found.runs[(found.runs["condition"] == "control")
                      & (found.runs["metric"] == "rate_at_reference_hz")]  # fmt: skip
    # Grid 5 -> 35 Hz, 10 -> 70 Hz: halfway is 52.5 Hz.
    assert rate["value"].iloc[0] == pytest.approx(52.5) and rate["text"].iloc[0] == "interpolated"
    config["compare"]["reference_current_uA_cm2"] = 50.0
    found = collect_runs(compare_settings(config, CONDITIONS), tmp_path / "results")
    assert "outside_grid" in set(found.gaps["kind"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c["mapping"].update(reference_condition="wildtype"),
            "mapping.reference_condition",
        ),
        (lambda c: c["compare"].update(noisy_sigma=0.3), "compare.noisy_sigma"),
        (lambda c: c["autoencoder"]["noise"].update(sigmas=[0.2]), "lacks 0"),
        (lambda c: c["compare"]["claims"].update(overfiring_scenario="s9"), "overfiring_scenario"),
    ],
)
def test_bad_settings_name_the_key(config: dict, edit, message: str) -> None:
    edit(config)
    with pytest.raises(ConfigError, match=message):
        compare_settings(config, CONDITIONS)


def test_run_paths_follow_the_autoencoder_stage(tmp_path: Path, config: dict) -> None:
    from bridge.compare.paths import expected_runs, sigma_label

    assert [sigma_label(s) for s in (0, 0.0, 0.2, 1e-4, 0.25)] == [
        "0",
        "0",
        "0.2",
        "0.0001",
        "0.25",
    ]
    path = autoencoder_metrics_path("results", "s1_benchmark", 0.0, 123)
    assert path.as_posix() == "results/autoencoder/s1_benchmark/sigma0/seed123/metrics.json"
    config["autoencoder"]["run_paper_scenarios"] = ["s1_benchmark", "s3_syn_beta"]
    settings = compare_settings(config, CONDITIONS)
    scenarios = {k.scenario for k, _ in expected_runs(settings, "results") if k.scenario}
    assert scenarios == {"s1_benchmark", "s3_syn_beta", "cond_control", "cond_intermediate",
                         "cond_hyperexcitable"}  # fmt: skip
    config["autoencoder"]["run_paper_scenarios"] = ["s1_benchmark", "s7"]
    with pytest.raises(ConfigError, match="run_paper_scenarios"):
        compare_settings(config, CONDITIONS)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["autoencoder"].update(benchmark_scenario="s9"), "autoencoder.benchmark"),
        (lambda c: c["regressor"].pop("paper_values"), "regressor.paper_values"),
        (
            lambda c: c["compare"]["claims"].update(accuracy_horizons=["free_run"]),
            "accuracy_horizons",
        ),
    ],
)
def test_keys_read_from_the_stage_sections_name_the_key(config: dict, edit, message: str) -> None:
    edit(config)
    with pytest.raises(ConfigError, match=message):
        compare_settings(config, CONDITIONS)


def test_paper_values_and_benchmark_come_from_the_stage_sections(config: dict) -> None:
    config["autoencoder"]["benchmark_scenario"] = "s2_lif_beta"
    config["regressor"]["paper_values"] = "elsewhere/regressor.yaml"
    settings = compare_settings(config, CONDITIONS)
    assert settings.claims.benchmark_scenario == "s2_lif_beta"
    assert settings.paper_values == {
        "autoencoder": config["autoencoder"]["paper_values"],
        "regressor": "elsewhere/regressor.yaml",
    }


@pytest.mark.parametrize(
    "judged", [["one_step", "closed_loop_first_lyapunov_time"], ["closed_loop"]]
)
def test_summary_shows_claim_4_at_every_horizon(
    tmp_path: Path, config: dict, judged: list[str]
) -> None:
    config["compare"]["claims"]["accuracy_horizons"] = judged
    write_stage_outputs(tmp_path / "results", config)
    out = run_stage(tmp_path, config)
    claim4 = out["summary.md"].read_text().split("### 4.")[1].split("### 5.")[0]
    header = next(line for line in claim4.splitlines() if line.startswith("| runs"))
    titles = {
        "one_step": "one step",
        "closed_loop_first_lyapunov_time": "closed loop, 1st Lyapunov time",
        "closed_loop": "closed loop, test span",
    }
    for title in titles.values():
        assert f"R², {title}" in header and f"sMAPE % z, {title}" in header
    assert header.count("(judged)") == 4 * len(judged)  # every accuracy column of a horizon
    for horizon in judged:
        assert f"R², {titles[horizon]} (judged)" in header
    # Fixture: one step r2 + 0.5, first Lyapunov time r2 + 0.4, test span r2 (MTC 0.40).
    mtc = next(line for line in claim4.splitlines() if line.startswith("| mtc trained"))
    cells = [c.strip() for c in mtc.strip("|").split("|")]
    assert cells[1].startswith("0.9 ") and cells[9].startswith("0.4 ") and cells[-1] == "3 of 3"
    lif = next(line for line in claim4.splitlines() if line.startswith("| lif mapped: control"))
    assert lif.rstrip(" |").endswith("0 of 3")
    claims = pd.read_csv(out["claims.csv"])
    reasons = claims[claims["claim"] == "mtc_accurate_sparse"]["reason"]
    for horizon in judged:
        assert reasons.str.contains(f"r2_{horizon} ").all()


def test_a_run_whose_identity_breaks_its_contract_is_one_gap(tmp_path: Path, config: dict) -> None:
    """A metrics.json whose status or identity does not parse (bridge.contracts) is a gap for
    the whole run, naming the field; the other runs still count."""
    results = tmp_path / "results"
    write_stage_outputs(results, config)
    bad = regressor_metrics_path(results, "control", "mtc", 1)
    doc = json.loads(bad.read_text())
    bad.write_text(json.dumps({**doc, "status": "lost"}))
    moved = autoencoder_metrics_path(results, "s1_benchmark", 0.0, 123)
    doc = json.loads(moved.read_text())
    moved.write_text(json.dumps({**doc, "seed": 7}))
    found = collect_runs(compare_settings(config, CONDITIONS), results)
    gaps = found.gaps.set_index("file")
    assert gaps.loc[str(bad), "kind"] == "unreadable"
    assert gaps.loc[str(bad), "reason"].startswith("field 'status' is 'lost', not one of")
    assert gaps.loc[str(moved), "kind"] == "identity_mismatch"
    assert gaps.loc[str(moved), "reason"] == "the file says seed = 7, its path says 123"
    assert not found.runs["file"].isin([str(bad), str(moved)]).any()
    assert found.runs["file"].eq(str(regressor_metrics_path(results, "control", "mtc", 2))).any()


def test_summary_shows_the_bridge_claim_and_the_label_arm(tmp_path: Path, config: dict) -> None:
    config["autoencoder"]["label_arm"] = True
    write_stage_outputs(tmp_path / "results", config)
    summary = run_stage(tmp_path, config)["summary.md"].read_text()
    claim5 = summary.split("### 5.")[1].split("## Against")[0]
    assert "label mapping β = exp(−gNa)" in claim5
    assert "| hyperexcitable − control | contradicted |" in claim5
    assert "test MSE σ=0, label β" in claim5 and "0.3679" in claim5
    assert "Protocol: mapping: deterministic fit" in claim5


def test_summary_names_what_defines_each_condition(tmp_path: Path, config: dict) -> None:
    """A condition that differs from the control only by an Na activation shift is named by
    that shift in summary.md (issue 15: it used to look like the control)."""
    results = tmp_path / "results"
    write_stage_outputs(results, config)
    path = results / "hh" / "intermediate" / "summary.json"
    doc = json.loads(path.read_text())
    doc["params"].update(gnabar=0.12, m_shift_mV=-6.0)
    control = json.loads((results / "hh" / "control" / "summary.json").read_text())
    control["params"]["m_shift_mV"] = 0.0
    (results / "hh" / "control" / "summary.json").write_text(json.dumps(control))
    path.write_text(json.dumps(doc))
    summary = run_stage(tmp_path, config)["summary.md"].read_text()
    glance = summary.split("## Conditions")[1].split("## Claims")[0]
    inter = next(line for line in glance.splitlines() if line.startswith("| intermediate"))
    hyper = next(line for line in glance.splitlines() if line.startswith("| hyperexcitable"))
    assert "m_shift_mV -6" in inter and "gnabar" not in inter
    assert "gnabar 1" in hyper and "m_shift_mV" not in hyper
    control = next(line for line in glance.splitlines() if line.startswith("| control"))
    assert [c.strip() for c in control.strip("|").split("|")][2] == "reference"
