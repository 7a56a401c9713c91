"""The autoencoder stage on real tiny runs (100 training / 40 test digits, one epoch): skipped
conditions, MSEl against the benchmark and its null comparison, the tables and the figures."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from bridge.autoencoder.comparison import compare_pair, write_comparisons
from bridge.autoencoder.figures import FIGURE_NAMES, write_autoencoder_figures
from bridge.autoencoder.model import LAYER_NAMES
from bridge.autoencoder.stage import run_scenario
from bridge.autoencoder.summary import (
    MSEL_COLUMNS,
    RUN_COLUMNS,
    TABLE2_COLUMNS,
    write_autoencoder_summary,
)
from bridge.config import deep_merge
from bridge.io import write_json
from bridge.paper_values import PaperValuesError, load_autoencoder_paper_values

REPO = Path(__file__).resolve().parents[1]
PAPER_VALUES = REPO / "data" / "paper_values" / "autoencoder.yaml"
BENCH, S3 = "s1_benchmark", "s3_syn_beta"


def tiny_section() -> dict[str, Any]:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    tiny = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    section = copy.deepcopy(deep_merge(config, tiny)["autoencoder"])
    section["progress_bar"] = False
    return section


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Benchmark at seeds 123 and 999 (sigma 0) and 123 (sigma 0.2); scenario 3 at seed 123,
    both sigmas; an unusable condition (skipped)."""
    root = tmp_path_factory.mktemp("ae_stage")
    section = tiny_section()
    mapping = root / "silent.json"
    write_json(mapping, {"condition": "silent", "status": "never_fires", "use_downstream": False})
    runs = [(BENCH, 0.0, 123), (BENCH, 0.0, 999), (BENCH, 0.2, 123), (S3, 0.0, 123),
            (S3, 0.2, 123), ("cond_silent", 0.0, 123), ("cond_silent", 0.2, 123)]  # fmt: skip
    dirs = {}
    for name, sigma, seed in runs:
        dirs[name, sigma, seed] = root / name / f"sigma{sigma:g}" / f"seed{seed}"
        run_scenario(
            section, name, sigma, seed, dirs[name, sigma, seed], num_threads=1,
            mapping_path=mapping if name.startswith("cond_") else None,
        )  # fmt: skip
    return {"root": root, "section": section, "dirs": dirs}


def features(stage: dict[str, Any], *key: Any) -> Path:
    return stage["dirs"][key] / "features.npz"


def test_null_comparison_is_positive_and_self_comparison_zero(stage: dict[str, Any]) -> None:
    ident = {"scenario": BENCH, "reference": BENCH, "sigma": 0.0}
    null = compare_pair(
        features(stage, BENCH, 0.0, 999), features(stage, BENCH, 0.0, 123), kind="seed_pair",
        identity={**ident, "seed": 999, "reference_seed": 123},
    )  # fmt: skip
    assert null["status"] == "ok" and list(null["msel"]) == list(LAYER_NAMES)
    # Two seeds give two different networks: their first layers' spike maps differ.
    assert null["msel"]["EC_Lk1"] > 1e-4 and null["msel"]["EC_Syn1"] > 1e-4
    same = compare_pair(
        features(stage, BENCH, 0.0, 123), features(stage, BENCH, 0.0, 123), kind="seed_pair",
        identity={**ident, "seed": 123, "reference_seed": 123},
    )  # fmt: skip
    assert all(v == 0.0 for v in same["msel"].values())
    # Scenario 3 against the benchmark at the same seed: same inputs, different maps.
    s3 = compare_pair(
        features(stage, S3, 0.0, 123), features(stage, BENCH, 0.0, 123), kind="scenario",
        identity={**ident, "scenario": S3, "seed": 123, "reference_seed": 123},
    )  # fmt: skip
    assert s3["msel"]["EC_Syn1"] > 0.0 and s3["msel"]["EC_Lk1"] == 0.0  # EC_Lk1 is a Leaky


def test_comparison_refuses_different_inputs_and_passes_skips_on(stage: dict[str, Any]) -> None:
    ident = {"scenario": S3, "reference": BENCH, "sigma": 0.2, "seed": 123, "reference_seed": 123}
    with pytest.raises(ValueError, match="differ in 'input_noisy'"):
        compare_pair(features(stage, S3, 0.2, 123), features(stage, BENCH, 0.0, 123),
                     kind="scenario", identity=ident)  # fmt: skip
    skipped = compare_pair(features(stage, "cond_silent", 0.2, 123),
                           features(stage, BENCH, 0.2, 123), kind="scenario", identity=ident)  # fmt: skip
    assert skipped["status"] == "skipped" and skipped["msel"] is None
    assert "never_fires" in skipped["reason"]


def test_tables_and_figures(stage: dict[str, Any], tmp_path: Path) -> None:
    section = stage["section"]
    msel_paths = []
    for name in (S3, "cond_silent"):
        keys = [(name, 0.0, 123), (name, 0.2, 123)]
        msel_paths.append(tmp_path / f"{name}.json")
        write_comparisons(
            "scenario",
            [features(stage, *k) for k in keys],
            [features(stage, BENCH, k[1], 123) for k in keys],
            [
                {
                    "scenario": name,
                    "reference": BENCH,
                    "sigma": k[1],
                    "seed": 123,
                    "reference_seed": 123,
                }
                for k in keys
            ],  # fmt: skip
            msel_paths[-1],
        )
    msel_paths.append(tmp_path / "null.json")
    write_comparisons(
        "seed_pair", [features(stage, BENCH, 0.0, 999)], [features(stage, BENCH, 0.0, 123)],
        [{"scenario": BENCH, "reference": BENCH, "sigma": 0.0, "seed": 999,
          "reference_seed": 123}], msel_paths[-1],
    )  # fmt: skip
    metrics = [d / "metrics.json" for d in stage["dirs"].values()]
    out = {name: tmp_path / f"{name}.csv" for name in ("runs", "table2", "msel")}
    tables = write_autoencoder_summary(
        metrics, msel_paths, PAPER_VALUES, section, ["silent"], out["runs"], out["table2"],
        out["msel"],
    )  # fmt: skip
    for path in out.values():
        assert "nan" not in path.read_text().lower()
        assert path.with_name(path.stem + ".provenance.json").is_file()
    runs = pd.read_csv(out["runs"])
    assert list(runs.columns) == RUN_COLUMNS and len(runs) == 7
    assert list(runs["scenario"]) == [BENCH] * 3 + [S3] * 2 + ["cond_silent"] * 2
    assert runs.loc[runs["seed"] == 999, "null_only"].tolist() == [True]
    silent = runs[runs["scenario"] == "cond_silent"]
    assert (silent["status"] == "skipped").all() and silent["test_mse_final"].isna().all()
    learned = runs.dropna(subset=["test_mse_final"])
    assert ((learned["label"] == "not_learned")
            == (learned["test_mse_final"] >= learned["mean_image_mse"])).all()  # fmt: skip

    table = pd.read_csv(out["table2"])
    assert list(table.columns) == TABLE2_COLUMNS
    assert list(table["scenario"]) == [BENCH, S3, "cond_silent"]
    bench = table.set_index("scenario").loc[BENCH]
    assert bench["n_ok"] == 1  # the null-only seed stays out of Table 2
    assert bench["test_mse_over_benchmark"] == pytest.approx(1.0)
    assert bench["paper_test_mse"] == 0.0996 and bench["paper_rank_mse"] == 1
    assert table.set_index("scenario").loc[S3, "paper_rank_mse"] == 2
    assert table.set_index("scenario").loc["cond_silent", "n_skipped"] == 1
    assert tables["table2"]["rank_mse_paper_set"].notna().sum() == 2

    msel = pd.read_csv(out["msel"])
    assert list(msel.columns) == MSEL_COLUMNS
    assert list(msel["kind"].iloc[: len(LAYER_NAMES)]) == ["seed_pair"] * len(LAYER_NAMES)
    s3_clean = msel[(msel["scenario"] == S3) & (msel["sigma"] == 0.0)]
    assert (s3_clean["n_null"] == 1).all() and s3_clean["null_msel_mean"].notna().all()
    s3_noisy = msel[(msel["scenario"] == S3) & (msel["sigma"] == 0.2)]
    assert (s3_noisy["n_null"] == 0).all() and s3_noisy["null_msel_mean"].isna().all()

    paths = {name: (tmp_path / f"{name}.png", tmp_path / f"{name}.svg") for name in FIGURE_NAMES}
    write_autoencoder_figures(metrics, out["table2"], PAPER_VALUES, section, ["silent"], paths)
    for png, svg in paths.values():
        assert png.stat().st_size > 10_000 and svg.stat().st_size > 10_000


def test_paper_values_file() -> None:
    paper = load_autoencoder_paper_values(PAPER_VALUES)
    assert paper.test_mse == {"s1_benchmark": 0.0996, "s2_lif_beta": 0.0764,
                              "s3_syn_beta": 0.2771, "s4_syn_alpha": 0.0645,
                              "s5_syn_both": 0.1010}  # fmt: skip
    assert max(paper.test_mse, key=paper.test_mse.get) == paper.overfiring_scenario
    assert min(paper.msed, key=paper.msed.get) == "s4_syn_alpha"
    assert paper.firing_rates["noiseless"]["s3_syn_beta"]["DC_Lk1"] == 0.5525
    assert paper.firing_rates["noisy"]["s1_benchmark"]["EC_Lk2"] == 0.7619
    assert "Table 2" in paper.citations["table2"]


def test_bad_paper_values_name_the_key(tmp_path: Path) -> None:
    data = yaml.safe_load(PAPER_VALUES.read_text())
    data["table2"]["scenarios"]["s2_lif_beta"]["test_mse"] = "0.07"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(PaperValuesError, match="table2.scenarios.s2_lif_beta.test_mse"):
        load_autoencoder_paper_values(bad)
    data = yaml.safe_load(PAPER_VALUES.read_text())
    data["firing_rates_final_epoch"]["noisy"]["s1_benchmark"]["EC_Syn9"] = 0.1
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(PaperValuesError, match="unknown layer"):
        load_autoencoder_paper_values(bad)


def test_runs_are_deterministic(stage: dict[str, Any], tmp_path: Path) -> None:
    """Same scenario, sigma and seed: the same metrics and feature maps."""
    again = run_scenario(stage["section"], S3, 0.2, 123, tmp_path / "again", num_threads=1)
    with (
        np.load(features(stage, S3, 0.2, 123)) as a,
        np.load(tmp_path / "again" / "features.npz") as b,
    ):
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key
    first = (stage["dirs"][S3, 0.2, 123] / "metrics.json").read_text()
    assert again["test_mse_final"] == pytest.approx(float(yaml.safe_load(first)["test_mse_final"]),
                                                    abs=0)  # fmt: skip
