"""Published values: the loader's checks and the paper-vs-ours tables on hand-made runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bridge.compare.collect import collect_runs
from bridge.compare.paper_tables import autoencoder_table, regressor_table
from bridge.config.compare import compare_settings
from bridge.neurons.registry import MODEL_NAMES
from bridge.paper_values import PaperValuesError, load_paper_records
from tests.compare_fixtures import CONDITIONS, REPO, small_config, write_stage_outputs

#: Hand-made excerpts in the stages' own layouts (not the project's data files).
AUTOENCODER = {
    "source": {"paper": "test excerpt", "file": "papers/ae.txt"},
    "table2": {
        "citation": "Table 2",
        "scenarios": {
            "s1_benchmark": {"test_mse": 0.0996, "msed": 35.32},
            "s3_syn_beta": {"test_mse": 0.2771, "msed": 396.8},
            "s4_syn_alpha": {"test_mse": 0.0645, "msed": 4.54},
        },
    },
    "benchmark_scenario": "s1_benchmark",
    "overfiring_scenario": "s3_syn_beta",
    "firing_rates_final_epoch": {
        "noiseless": {"citation": "Figure 5A text"},
        "noisy": {"citation": "Section 3", "s3_syn_beta": {"EC_Syn1": 0.2431}},
    },
}


def regressor_doc(**given: dict[str, object]) -> dict[str, object]:
    """Every model x metric the regressor loader needs, not reported unless ``given``
    (``mtc_r2={"value": ..., "relation": ...}``)."""
    models = {
        model: {
            metric: {"value": None, "relation": "approx", "statistic": "not reported",
                     "cite": "Key results", **given.get(f"{model}_{metric}", {})}
            for metric in ("r2", "smape", "s_comm", "s_comp")
        }
        for model in MODEL_NAMES
    }  # fmt: skip
    return {"source": {"title": "test excerpt"}, "models": models}


REGRESSOR = regressor_doc(
    mtc_r2={"value": 0.988, "statistic": "median"},
    mtc_s_comp={"value": 0.9, "relation": "greater_than"},
    adlif_s_comm={"value": 0.04},
)


def write_yaml(path: Path, doc: object) -> Path:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


@pytest.fixture
def runs_and_settings(tmp_path: Path):
    config = small_config()
    write_stage_outputs(tmp_path / "results", config)
    settings = compare_settings(config, CONDITIONS)
    return collect_runs(settings, tmp_path / "results").runs, settings


def test_autoencoder_table(tmp_path: Path, runs_and_settings) -> None:
    runs, settings = runs_and_settings
    paper = load_paper_records(write_yaml(tmp_path / "ae.yaml", AUTOENCODER), "autoencoder")
    table = autoencoder_table(runs, paper, settings)
    # Test MSE and MSEd of three scenarios, one quoted layer rate.
    assert len(table) == 7
    mse = table[table["quantity"] == "test_mse"].set_index("scenario")
    # Ours at sigma 0: s1 0.030 + seed jitter (mean 0.030333), s3 + 0.020, s4 no penalty.
    ours_s1 = (0.030 + 0.032 + 0.029) / 3
    assert mse.loc["s1_benchmark", "ours_mean"] == pytest.approx(ours_s1)
    assert mse.loc["s1_benchmark", "difference"] == pytest.approx(ours_s1 - 0.0996)
    assert mse.loc["s1_benchmark", "ratio"] == pytest.approx(ours_s1 / 0.0996)
    assert mse.loc["s1_benchmark", "ours_over_mean_image"] == pytest.approx(ours_s1 / 0.058)
    # Paper ranks among its published scenarios: s4 < s1 < s3; ours over all five.
    assert mse.loc["s4_syn_alpha", "paper_rank"] == 1 and mse.loc["s3_syn_beta", "paper_rank"] == 3
    assert mse.loc["s3_syn_beta", "ours_rank"] == 5
    msed = table[table["quantity"] == "msed"].iloc[0]
    assert "not comparable" in msed["note"]
    rate = table[table["quantity"] == "firing_rate"].iloc[0]
    assert rate["sigma"] == pytest.approx(0.2) and rate["ours_mean"] == pytest.approx(
        0.16 + (0.0 + 0.002 - 0.001) / 3
    )
    assert "noise SD not stated" in rate["note"]


def test_regressor_table(tmp_path: Path, runs_and_settings) -> None:
    runs, settings = runs_and_settings
    paper = load_paper_records(write_yaml(tmp_path / "reg.yaml", REGRESSOR), "regressor")
    table = regressor_table(runs, paper, settings).set_index(["quantity", "model"])
    # Numbers the paper does not report (value null) give no row.
    assert len(table) == 3
    r2 = table.loc[("r2", "mtc")]
    # The trained arms (results/regressor/reference/{model}), as the paper ran them.
    assert r2["ours_runs"] == "reference / mtc (trained)" and r2["ours_n"] == 3
    assert r2["ours_median_closed_loop"] == pytest.approx(0.40)
    assert r2["difference_closed_loop"] == pytest.approx(0.40 - 0.988)
    assert r2["ours_median_one_step"] == pytest.approx(0.90)
    assert r2["ours_median_closed_loop_first_lyapunov_time"] == pytest.approx(0.80)
    s_comp = table.loc[("s_comp", "mtc")]
    assert (
        s_comp["relation"] == ">"
        and s_comp["meets_bound"] == "yes"
        and pd.isna(s_comp["difference_one_step"])
    )
    s_comm = table.loc[("s_comm", "adlif")]
    assert s_comm["ours_runs"] == "reference / adlif (trained)"
    assert s_comm["difference_one_step"] == pytest.approx(0.04 - 0.04)


def test_missing_file_is_a_warning_not_an_error(
    tmp_path: Path, runs_and_settings, caplog: pytest.LogCaptureFixture
) -> None:
    runs, settings = runs_and_settings
    with caplog.at_level(logging.WARNING):
        paper = load_paper_records(tmp_path / "absent.yaml", "autoencoder")
    assert not paper.found and paper.records.empty
    assert "absent.yaml" in caplog.text
    assert autoencoder_table(runs, paper, settings).empty


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"value": "high"}, r"models\.mtc\.r2\.value must be a finite number"),
        ({"relation": ">="}, r"models\.mtc\.r2\.relation"),
        ({"cite": ""}, r"models\.mtc\.r2\.cite"),
    ],
)
def test_bad_entry_names_file_and_key(tmp_path: Path, entry: dict, message: str) -> None:
    """The regressor stage's loader parses the file; its error reaches the compare stage."""
    path = write_yaml(tmp_path / "bad.yaml", regressor_doc(mtc_r2={"value": 0.9, **entry}))
    with pytest.raises(PaperValuesError, match=message) as err:
        load_paper_records(path, "regressor")
    assert "bad.yaml" in str(err.value)


def test_both_files_raise_the_one_paper_values_error(tmp_path: Path) -> None:
    """One loader module, one error type: a bad autoencoder file raises the regressor's too."""
    bad = {**AUTOENCODER, "benchmark_scenario": "s9_unknown"}
    path = write_yaml(tmp_path / "ae.yaml", bad)
    with pytest.raises(PaperValuesError, match=r"ae\.yaml: benchmark_scenario 's9_unknown'"):
        load_paper_records(path, "autoencoder")
    with pytest.raises(PaperValuesError, match=r"ae\.yaml: key 'models' is missing"):
        load_paper_records(path, "regressor")


def test_the_regressor_stage_layout_is_read_by_the_compare_stage(runs_and_settings) -> None:
    """The project's real data/paper_values/regressor.yaml, through the regressor's loader."""
    runs, settings = runs_and_settings
    paper = load_paper_records(REPO / "data" / "paper_values" / "regressor.yaml", "regressor")
    table = regressor_table(runs, paper, settings).set_index(["quantity", "model"])
    mtc_r2 = table.loc[("r2", "mtc")]
    assert mtc_r2["paper_value"] == 0.988 and mtc_r2["relation"] == "~"
    assert mtc_r2["statistic"] == "median" and "0.988" in mtc_r2["source"]
    assert mtc_r2["difference_closed_loop"] == pytest.approx(0.40 - 0.988)
    assert table.loc[("s_comp", "mtc"), "relation"] == ">"
    # LIF's S_comm and S_comp are not reported: 12 numbers, 10 rows.
    assert len(table) == 10 and ("s_comm", "lif") not in table.index


def test_the_real_autoencoder_file_gives_every_published_number() -> None:
    paper = load_paper_records(REPO / "data" / "paper_values" / "autoencoder.yaml", "autoencoder")
    counts = paper.records["quantity"].value_counts().to_dict()
    # Table 2: 5 scenarios x (test MSE, MSEd); quoted rates: 2 x 5 noiseless, 2 x 2 noisy.
    assert counts == {"test_mse": 5, "msed": 5, "firing_rate": 14}
    mse = paper.records[paper.records["quantity"] == "test_mse"].set_index("scenario")
    assert mse.loc["s3_syn_beta", "value"] == 0.2771


#: The autoencoder stage's nested layout of its paper-values file (hand-made excerpt).
AUTOENCODER_NESTED = {
    "source": {"paper": "excerpt", "file": "papers/ae.txt"},
    "table2": {
        "citation": "Table 2",
        "msed_note": "step not stated",
        "scenarios": {
            "s1_benchmark": {"test_mse": 0.0996, "msed": 35.32},
            "s3_syn_beta": {"test_mse": 0.2771, "msed": 396.8},
        },
    },
    "firing_rates_final_epoch": {
        "noiseless": {"citation": "Figure 5A text", "s3_syn_beta": {"EC_Syn1": 0.1577}},
        "noisy": {"citation": "Figure 5C text", "s1_benchmark": {"EC_Lk2": 0.7619}},
    },
    "benchmark_scenario": "s1_benchmark",
    "overfiring_scenario": "s3_syn_beta",
    "claims": {"citation": "Abstract"},
}


def test_the_autoencoder_stage_layout_reads_as_records(tmp_path: Path, runs_and_settings) -> None:
    paper = load_paper_records(
        write_yaml(tmp_path / "nested.yaml", AUTOENCODER_NESTED), "autoencoder"
    )
    assert paper.found and paper.paper == "papers/ae.txt"
    records = paper.records
    assert len(records) == 6
    msed = records[(records["quantity"] == "msed") & (records["scenario"] == "s3_syn_beta")]
    assert msed["value"].iloc[0] == 396.8 and msed["note"].iloc[0] == "step not stated"
    rate = records[records["quantity"] == "firing_rate"].set_index("layer")
    assert (
        rate.loc["EC_Lk2", "noise"] == "noisy" and rate.loc["EC_Lk2", "source"] == "Figure 5C text"
    )
    runs, settings = runs_and_settings
    table = autoencoder_table(runs, paper, settings).set_index(["quantity", "scenario"])
    # Ranks: the paper's among its own scenarios, ours among the five this run has.
    assert table.loc[("test_mse", "s3_syn_beta"), "paper_rank"] == 2
    assert table.loc[("test_mse", "s3_syn_beta"), "ours_rank"] == 5
    assert table.loc[("msed", "s1_benchmark"), "note"] == "step not stated"


def test_a_scenario_this_config_does_not_run_is_said_so(tmp_path: Path) -> None:
    config = small_config()
    config["autoencoder"]["run_paper_scenarios"] = ["s1_benchmark", "s3_syn_beta"]
    write_stage_outputs(tmp_path / "results", config)
    settings = compare_settings(config, CONDITIONS)
    runs = collect_runs(settings, tmp_path / "results").runs
    paper = load_paper_records(write_yaml(tmp_path / "ae.yaml", AUTOENCODER), "autoencoder")
    table = autoencoder_table(runs, paper, settings).set_index(["quantity", "scenario"])
    s4 = table.loc[("test_mse", "s4_syn_alpha")]
    assert s4["ours_n"] == 0 and "not run by this config" in s4["note"]
    assert table.loc[("test_mse", "s3_syn_beta"), "ours_rank"] == 2
