"""Medians table beside the paper's medians, and the stage's figures from tiny runs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bridge.paper_values import (
    REGRESSOR_PAPER_VALUES,
    PaperValuesError,
    load_regressor_paper_values,
)
from bridge.regressor.figures import plot_mtc_regimes
from bridge.regressor.stage import train_regressor, write_regressor_summary
from bridge.regressor.summary import summarise_runs
from tests.regressor_fixtures import mapping_json, tiny_cfg


def _record(condition: str, model: str, seed: int, r2: float, s_comm: float) -> dict:
    return {
        "condition": condition,
        "model": model,
        "seed": seed,
        "status": "ok",
        "evaluation": {
            "closed_loop": {"r2": r2 - 1.0, "smape": 20.0 + seed},
            "one_step": {"r2": r2, "smape": 5.0, "smape_z": 30.0, "s_comm": s_comm, "s_comp": 0.5},
            "closed_loop_first_lyapunov_time": {"r2": r2 - 0.2, "skill_vs_ridge_ar": -seed},
        },
        "baselines": {"ridge_ar": {"one_step": {"r2": 0.999, "smape_z": 23.0}}},
    }


def test_medians_over_seeds_with_gaps_counted_and_paper_beside() -> None:
    runs = [
        _record("control", "mtc", 1, 0.9, 0.01),
        _record("control", "mtc", 2, 0.5, 0.03),
        _record("control", "mtc", 3, 0.7, 0.02),
        _record("reference", "adlif", 1, 0.8, 0.2),
        _record("reference", "mtc", 1, 0.95, 0.002),
        _record("reference", "mtc", 2, 0.97, 0.004),
        {"condition": "hyper", "model": "mtc", "seed": 1, "status": "skipped", "reason": "why"},
        {**_record("hyper", "lif", 1, 0.1, 0.3), "status": "diverged"},
    ]
    paper = load_regressor_paper_values()
    table = summarise_runs(runs, paper, ["control", "hyper"]).set_index(["condition", "model"])
    assert list(table.index) == [("control", "mtc"), ("hyper", "mtc"), ("hyper", "lif"),
                                 ("reference", "mtc"), ("reference", "adlif")]  # fmt: skip
    assert list(table["arm"]) == ["mapped"] * 3 + ["trained"] * 2
    control = table.loc[("control", "mtc")]
    assert control["r2_one_step"] == pytest.approx(0.7)
    assert control["r2_closed_loop"] == pytest.approx(-0.3)
    assert control["r2_closed_loop_first_lyapunov_time"] == pytest.approx(0.5)
    assert control["skill_vs_ridge_ar_closed_loop_first_lyapunov_time"] == pytest.approx(-2.0)
    assert control["smape_closed_loop"] == pytest.approx(22.0)
    assert control["smape_z_one_step"] == pytest.approx(30.0)
    assert control["s_comm_one_step"] == pytest.approx(0.02)
    assert control["seeds"] == "1 2 3" and control["n_ok"] == 3
    # A mapped arm stands beside the trained arm of its model, not beside the paper.
    assert pd.isna(control["paper_r2"])
    assert control["trained_r2_one_step"] == pytest.approx(0.96)
    assert control["trained_s_comm_one_step"] == pytest.approx(0.003)
    assert control["n_beats_repeat_last_value"] == 0
    assert control["ridge_ar_r2_one_step"] == pytest.approx(0.999)
    assert control["ridge_ar_smape_z_one_step"] == pytest.approx(23.0)
    hyper = table.loc[("hyper", "mtc")]
    assert hyper["n_skipped"] == 1 and hyper["skip_reason"] == "why"
    assert pd.isna(hyper["r2_one_step"])  # undefined: written as an empty CSV cell
    assert table.loc[("hyper", "lif"), "n_diverged"] == 1
    assert pd.isna(table.loc[("hyper", "lif"), "r2_one_step"])
    # No trained LIF arm among these runs: nothing to stand beside.
    assert pd.isna(table.loc[("hyper", "lif"), "trained_r2_one_step"])
    trained = table.loc[("reference", "mtc")]
    assert trained["paper_r2"] == paper["mtc"]["r2"].value == 0.988
    assert trained["paper_s_comp_reads"] == "> 0.9"
    assert pd.isna(trained["trained_r2_one_step"])
    assert table.loc[("reference", "adlif"), "paper_s_comm"] == 0.04


def test_paper_values_file_cites_every_number(tmp_path: Path) -> None:
    paper = load_regressor_paper_values(REGRESSOR_PAPER_VALUES)
    # MODELS.md section 6 and the paper's summary, number for number.
    expected = {
        "mtc": (0.988, 17.0, 2e-3, 0.9),
        "adlif": (0.982, 21.0, 4e-2, 0.7),
        "lif": (0.66, 78.0, None, None),
    }
    for model, values in expected.items():
        got = tuple(paper[model][m].value for m in ("r2", "smape", "s_comm", "s_comp"))
        assert got == values, model
        for entry in paper[model].values():
            assert "Key Quantitative Results" in entry.cite
    assert paper["mtc"]["s_comp"].relation == "greater_than"
    bad = tmp_path / "bad.yaml"
    bad.write_text(REGRESSOR_PAPER_VALUES.read_text().replace("value: 0.988", "value: .nan", 1))
    with pytest.raises(PaperValuesError, match=r"bad.yaml: models.mtc.r2.value must be"):
        load_regressor_paper_values(bad)


def test_regimes_figure_shows_each_regime(tmp_path: Path) -> None:
    counts = plot_mtc_regimes(tmp_path / "regimes.png")
    assert counts["phasic"] == 1
    assert 5 <= counts["tonic"] <= 15  # period about 57 units in a 600-unit step
    assert counts["bursting"] >= 20  # about 10 spikes per burst, about 3 bursts
    assert (tmp_path / "regimes.png").stat().st_size > 20_000


def test_summary_outputs_from_tiny_runs(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = tiny_cfg(training={"epochs": 2})
    paths = []
    for condition, model, mapping in [
        ("control", "mtc", mapping_json("control")),
        ("control", "lif", mapping_json("control")),
        ("hyper", "mtc", mapping_json("hyper", use_downstream=False, status="never_fires")),
        ("reference", "mtc", None),
        ("reference", "adlif", None),
    ]:
        folder = tmp_path / condition / model / "seed1"
        train_regressor(mapping, model, 1, cfg, folder)
        paths.append(folder / "metrics.json")
    out = tmp_path / "summary"
    write_regressor_summary(paths, ["control", "hyper"], 1, cfg, out / "summary.csv",
                            [out / "pred.png"], [out / "sparsity.png"],
                            REGRESSOR_PAPER_VALUES)  # fmt: skip
    table = pd.read_csv(out / "summary.csv")
    assert len(table) == 5 and table["n_skipped"].sum() == 1
    mapped_mtc = table[(table.condition == "control") & (table.model == "mtc")].iloc[0]
    trained_mtc = table[(table.condition == "reference") & (table.model == "mtc")].iloc[0]
    assert mapped_mtc["trained_r2_one_step"] == trained_mtc["r2_one_step"]
    skipped = table[(table.condition == "hyper")].iloc[0]
    assert np.isnan(skipped["r2_one_step"])  # an empty cell, not a number
    assert ",nan," not in (out / "summary.csv").read_text().lower()
    assert json.loads((out / "summary.provenance.json").read_text())["config_hash"]
    for name in ("pred.png", "sparsity.png"):
        assert (out / name).stat().st_size > 20_000
