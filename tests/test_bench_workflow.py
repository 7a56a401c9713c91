"""bench/bench_workflow.py: benchmark files, dry-run parsing, per-stage and per-rule totals,
the critical path and the projection arithmetic, on a fake results tree with known numbers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from bridge.regressor.data import window_starts

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "bench" / "bench_workflow.py"
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"


def _load():
    spec = importlib.util.spec_from_file_location("bench_workflow", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_workflow"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


bw = _load()

#: A dry run's listing as Snakemake 9 prints it (fields abridged to those the script reads,
#: plus the ones it must skip): hh_simulate x 2 -> mapping_reference -> mapping_condition x 2
#: -> mapping_collect -> all.
DRY_RUN = """\
Building DAG of jobs...
Job stats:
job                  count
-----------------  -------
all                      1
hh_simulate              2
mapping_collect          1
mapping_condition        2
mapping_reference        1
total                    7


[Thu Dec  3 06:30:47 2026]
localrule hh_simulate:
    input: build/nrnmech/mod.sha256
    output: results/hh/a/fi_curve.csv, results/hh/a/summary.json
    log: results/logs/hh_simulate/a.log
    jobid: 2
    benchmark: results/benchmarks/hh_simulate/a.tsv
    reason: Forced execution
    wildcards: condition=a
    resources: tmpdir=/tmp, mem_mb=3000, runtime=20
Shell command: None

[Thu Dec  3 06:30:47 2026]
localrule hh_simulate:
    input: build/nrnmech/mod.sha256
    output: results/hh/b/fi_curve.csv, results/hh/b/summary.json
    jobid: 3
    benchmark: results/benchmarks/hh_simulate/b.tsv
    wildcards: condition=b
Shell command: None

[Thu Dec  3 06:30:47 2026]
rule mapping_reference:
    input: results/hh/a/fi_curve.csv, results/hh/a/summary.json
    output: results/mapping/reference.json
    jobid: 1
    benchmark: results/benchmarks/mapping_reference.tsv
Shell command: None

[Thu Dec  3 06:30:47 2026]
rule mapping_condition:
    input: results/hh/a/fi_curve.csv, results/mapping/reference.json
    output: results/mapping/a.json
    jobid: 4
    benchmark: results/benchmarks/mapping_condition/a.tsv
    wildcards: condition=a
Shell command: None

[Thu Dec  3 06:30:47 2026]
rule mapping_condition:
    input: results/hh/b/fi_curve.csv, results/mapping/reference.json
    output: results/mapping/b.json
    jobid: 5
    benchmark: results/benchmarks/mapping_condition/b.tsv
    wildcards: condition=b
Shell command: None

[Thu Dec  3 06:30:47 2026]
rule mapping_collect:
    input: results/mapping/a.json, results/mapping/b.json
    output: results/mapping/mappings.csv
    jobid: 6
    benchmark: results/benchmarks/mapping_collect.tsv
Shell command: None

[Thu Dec  3 06:30:47 2026]
localrule all:
    input: results/mapping/mappings.csv
    jobid: 0
    reason: Forced execution
Job stats:
job                  count
-----------------  -------
all                      1
hh_simulate              2
total                    3

This was a dry-run (flag -n). The order of jobs does not reflect the order of execution.
"""

#: (benchmark path below results/benchmarks, wall s per repeat, CPU s per repeat)
TIMINGS = {
    "hh_simulate/a.tsv": ([4.0], [3.0]),
    "hh_simulate/b.tsv": ([6.0], [5.0]),
    # two repeats: means 100 s wall, 80 s CPU
    "mapping_reference.tsv": ([90.0, 110.0], [70.0, 90.0]),
    "mapping_condition/a.tsv": ([40.0], [30.0]),
    "mapping_condition/b.tsv": ([20.0], [None]),  # CPU not measured
    "mapping_collect.tsv": ([10.0], [8.0]),
}


def _write(path: Path, walls: list[float], cpus: list[float | None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        f"{w:.2f}\t0:00:{int(w):02d}\t100\t200\t90\t95\t0\t0\t80\t{'NA' if c is None else c}"
        for w, c in zip(walls, cpus, strict=True)
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")


@pytest.fixture
def results(tmp_path: Path) -> Path:
    for key, (walls, cpus) in TIMINGS.items():
        _write(tmp_path / "results" / "benchmarks" / key, walls, cpus)
    # a file no job of the dry run writes
    _write(tmp_path / "results" / "benchmarks" / "compare" / "old.tsv", [7.0], [6.0])
    return tmp_path / "results"


def test_benchmark_file_is_averaged_over_repeats(results: Path) -> None:
    b = bw.read_benchmark(results / "benchmarks" / "mapping_reference.tsv")
    assert (b.wall_s, b.cpu_s, b.repeats) == (100.0, 80.0, 2)
    assert bw.read_benchmark(results / "benchmarks" / "mapping_condition" / "b.tsv").cpu_s is None
    bad = results / "not_a_benchmark.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="not a Snakemake benchmark"):
        bw.read_benchmark(bad)


def test_dry_run_listing_is_parsed_into_jobs_counts_and_edges() -> None:
    dry = bw.parse_dry_run(DRY_RUN)
    assert [j.jobid for j in dry.jobs] == [0, 1, 2, 3, 4, 5, 6]
    # the first job-stats table counts (the second, shorter one is ignored)
    assert dry.counts == {
        "all": 1,
        "hh_simulate": 2,
        "mapping_collect": 1,
        "mapping_condition": 2,
        "mapping_reference": 1,
    }
    by_id = {j.jobid: j for j in dry.jobs}
    assert by_id[2].rule == "hh_simulate" and by_id[2].wildcards == "condition=a"
    assert by_id[2].outputs == ("results/hh/a/fi_curve.csv", "results/hh/a/summary.json")
    assert by_id[0].benchmark is None
    assert dry.dependencies() == {
        0: {6},
        1: {2},
        2: set(),
        3: set(),
        4: {1, 2},
        5: {1, 3},
        6: {4, 5},
    }


def test_stage_and_rule_totals(results: Path) -> None:
    jobs = bw.match_jobs(bw.read_benchmarks(results), bw.parse_dry_run(DRY_RUN))
    stages = {t.name: t for t in bw.per_stage(jobs)}
    assert list(stages) == ["hh", "mapping", "compare"]  # pipeline order
    hh, mapping = stages["hh"], stages["mapping"]
    assert (hh.jobs, hh.wall_total_s, hh.wall_max_s, hh.cpu_total_s) == (2, 10.0, 6.0, 8.0)
    assert mapping.jobs == 4
    assert mapping.wall_total_s == pytest.approx(100.0 + 40.0 + 20.0 + 10.0)
    assert mapping.cpu_total_s == pytest.approx(80.0 + 30.0 + 8.0)  # b's CPU not measured
    rules = {t.name: t for t in bw.per_rule(jobs)}
    cond = rules["mapping_condition"]
    assert (cond.jobs, cond.wall_total_s, cond.wall_mean_s, cond.wall_max_s) == (
        2,
        60.0,
        30.0,
        40.0,
    )
    assert (cond.cpu_total_s, cond.cpu_mean_s) == (30.0, 30.0)  # mean over measured CPU only
    # largest total first; the unmatched file keeps its folder's stage and an unknown rule
    assert bw.per_rule(jobs)[0].name == "mapping_reference"
    assert rules["?"].jobs == 1 and stages["compare"].wall_total_s == 7.0


def test_critical_path_follows_the_longest_dependent_chain(results: Path) -> None:
    dry = bw.parse_dry_run(DRY_RUN)
    jobs = bw.match_jobs(bw.read_benchmarks(results), dry)
    cost = {j.jobid: j.wall_s for j in jobs if j.jobid is not None}
    total, chain = bw.critical_path(dry.dependencies(), cost)
    # hh a (4) -> reference (100) -> condition a (40) -> collect (10); the 0 s `all` trimmed
    assert chain == [2, 1, 4, 6]
    assert total == pytest.approx(154.0)
    # a slower hh b moves the path through condition b
    cost[3] = 500.0
    total, chain = bw.critical_path(dry.dependencies(), cost)
    assert chain == [3, 5, 6] and total == pytest.approx(530.0)
    with pytest.raises(ValueError, match="cycle"):
        bw.critical_path({1: {2}, 2: {1}}, {1: 1.0, 2: 1.0})


def test_projection_is_jobs_times_mean_cost_times_work_ratio(results: Path) -> None:
    jobs = bw.match_jobs(bw.read_benchmarks(results), bw.parse_dry_run(DRY_RUN))
    rules = bw.per_rule(jobs)
    counts = {"hh_simulate": 5, "mapping_condition": 4, "mapping_reference": 1, "regressor_x": 3}
    ratios = {"mapping_condition": (2.5, "test work")}
    rows = {r.rule: r for r in bw.project(rules, counts, ratios)}
    hh = rows["hh_simulate"]
    assert (hh.jobs_projected, hh.jobs_measured, hh.scale) == (5, 2, 1.0)
    assert hh.wall_total_s == pytest.approx(5 * 5.0) and hh.cpu_total_s == pytest.approx(5 * 4.0)
    assert hh.scaling == bw.UNSCALED_NOTE
    cond = rows["mapping_condition"]
    assert cond.wall_total_s == pytest.approx(4 * 30.0 * 2.5)
    assert cond.cpu_total_s == pytest.approx(4 * 30.0 * 2.5)
    assert cond.scaling == "test work"
    unmeasured = rows["regressor_x"]
    assert unmeasured.wall_total_s is None and unmeasured.jobs_measured == 0
    assert "mapping_collect" not in rows  # not run by the projected config
    stages = bw.projected_stages(list(rows.values()))
    assert list(stages) == ["hh", "mapping"]  # the unmeasured regressor rule left out
    assert stages["mapping"]["wall_s"] == pytest.approx(300.0 + 100.0)
    assert stages["mapping"]["cpu_s"] == pytest.approx(300.0 + 80.0)
    # per-job cost of a projected dry run: its rule's mean x ratio
    dry = bw.parse_dry_run(DRY_RUN)
    cost = bw.projected_job_cost(dry, list(rows.values()))
    assert cost[4] == pytest.approx(75.0) and cost[2] == pytest.approx(5.0) and 6 not in cost


def test_work_ratios_of_the_shipped_configs() -> None:
    quick = bw.load_layered_config([REPO_ROOT / "config" / "quick.yaml"])
    full = bw.load_layered_config([])
    ratios = bw.work_ratios(
        ["autoencoder_paper_run", "regressor_condition", "mapping_reference"], quick, full
    )
    q, f = quick.autoencoder, full.autoencoder
    assert q.data.source == "embedded" and f.data.source == "mnist_idx"
    expected = (f.training.epochs * bw.MNIST_IDX_TRAIN_IMAGES) / (
        q.training.epochs * q.data.n_train_embedded
    )
    assert ratios["autoencoder_paper_run"][0] == pytest.approx(expected)
    assert ratios["mapping_reference"] == (1.0, bw.UNSCALED_NOTE)
    # the regressor's work: epochs x Adam steps x window steps, from the windows of the span
    t = quick.regressor.training
    n_train = quick.regressor.mackey_glass_params.n_train
    n_windows = len(window_starts(n_train, t.window_steps, t.window_stride))
    steps = -(-n_windows // min(t.batch_size, n_windows))
    assert bw._regressor_steps(quick) == t.epochs * steps * t.window_steps
    assert ratios["regressor_condition"][0] == pytest.approx(
        bw._regressor_steps(full) / bw._regressor_steps(quick)
    )


def test_gpu_rows_come_from_bench_json_naming_cuda(tmp_path: Path) -> None:
    (tmp_path / "cpu.json").write_text('{"rows": [{"model": "mtc", "device": "cpu"}]}')
    assert bw.gpu_rows([tmp_path]) == []
    (tmp_path / "gpu.json").write_text(
        '{"rows": [{"model": "mtc", "device": "cuda:0", "epoch_wall_s_min": 0.5, "x": [1]}]}'
    )
    rows = bw.gpu_rows([tmp_path, tmp_path / "missing"])
    assert rows == [
        {
            "file": str(tmp_path / "gpu.json"),
            "at": "/rows/0",
            "model": "mtc",
            "device": "cuda:0",
            "epoch_wall_s_min": 0.5,
        }
    ]
