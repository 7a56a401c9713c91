"""Where a finished run's time went: Snakemake's per-rule benchmark files, read back.

    .venv/bin/python bench/bench_workflow.py [--results results]
        [--configfile config/quick.yaml] [--project config/config.yaml] [--cores 2]
        [--json OUT]

Every rule of the workflow writes a Snakemake benchmark file under ``results/benchmarks/``
(columns s, h:m:s, max_rss, max_vms, max_uss, max_pss, io_in, io_out, mean_load, cpu_time;
one row per repeat, averaged here). The script prints:

* wall and CPU seconds per stage (hh, mapping, regressor, autoencoder, compare: the rule
  name's prefix) and per rule (jobs, total / mean / max wall, total CPU);
* the critical path: the longest chain of dependent jobs by measured wall time. The DAG
  comes from Snakemake itself: a dry run (``-n --forceall``) of the measured config lists
  every job with its rule, input, output and benchmark file; job B depends on job A when
  one of B's inputs is one of A's outputs. Jobs without a benchmark file count 0 s;
* the projected cost of another config (``--project``): jobs per rule from the same kind of
  dry run of that config, times the measured mean cost per job of that rule, times a
  per-rule work ratio where one is stated (``SCALINGS``: autoencoder runs scale with
  epochs x training images, regressor runs with epochs x Adam steps x window steps);
  every other rule is jobs x mean cost, a lower bound where that config grows the rule's
  work (more amplitudes, larger search grids);
* GPU rows: every bench JSON under ``--gpu-json`` folders that names a CUDA device, else
  "none".

The dry runs use the same binary and config layering as ``make reproduce``: the Snakefile's
``configfile: config/config.yaml`` with ``--configfile`` files merged on top.

Wall times (column ``s``) are exact. CPU times are lower bounds: Snakemake samples a job's
processes every 0.5 s for the first 15 s, then every 30 s (``snakemake.benchmark``), and
``cpu_time`` is the last sample's, so up to 30 s of a longer job's last CPU time is missing.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

#: The Snakefile's own config (``configfile:``); ``--configfile`` files merge on top of it.
BASE_CONFIG = REPO_ROOT / "config" / "config.yaml"
#: ``make reproduce``'s binary; the running interpreter's module where that venv is absent.
SNAKEMAKE = (
    [str(REPO_ROOT / ".venv" / "bin" / "snakemake")]
    if (REPO_ROOT / ".venv" / "bin" / "snakemake").is_file()
    else [sys.executable, "-m", "snakemake"]
)
#: Stages in pipeline order; a rule belongs to the stage its name starts with.
STAGES = ("hh", "mapping", "regressor", "autoencoder", "compare")
OTHER_STAGE = "other"
#: Every benchmark path of the workflow holds this folder; paths are compared below it.
BENCHMARK_DIR = "benchmarks"
#: Training images of the MNIST IDX files (autoencoder.data.source mnist_idx).
MNIST_IDX_TRAIN_IMAGES = 60_000
#: Snakemake's benchmark columns this script reads (seconds, MB, CPU seconds).
WALL_COLUMN, CPU_COLUMN, RSS_COLUMN = "s", "cpu_time", "max_rss"
#: Printed under the tables: what the CPU column can and cannot say.
CPU_NOTE = (
    "CPU s: Snakemake's last sample of the job's processes (every 30 s after the first 15 s), "
    "a lower bound missing up to 30 s per job; wall s is exact"
)
#: How Snakemake writes a value it could not measure.
MISSING_VALUES = {"", "-", "NA", "nan", "NaN"}
_JOB_HEADER = re.compile(r"^(?:local)?(?:rule|checkpoint) (\S+):\s*$")
_JOB_FIELD = re.compile(r"^\s+(\w+): ?(.*)$")


# --- benchmark files --------------------------------------------------------------------


@dataclass(frozen=True)
class Benchmark:
    """One benchmark file: means over its rows (repeats); None where not measured."""

    wall_s: float
    cpu_s: float | None
    max_rss_mb: float | None
    repeats: int


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in MISSING_VALUES:
        return None
    return float(text)


def _mean(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else None


def read_benchmark(path: str | Path) -> Benchmark:
    """Parse a Snakemake benchmark TSV (header + one row per repeat)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows or WALL_COLUMN not in rows[0]:
        raise ValueError(f"{path}: not a Snakemake benchmark file (no '{WALL_COLUMN}' column)")
    wall = _mean(_number(r[WALL_COLUMN]) for r in rows)
    if wall is None:
        raise ValueError(f"{path}: no wall time in column '{WALL_COLUMN}'")
    return Benchmark(
        wall_s=wall,
        cpu_s=_mean(_number(r.get(CPU_COLUMN)) for r in rows),
        max_rss_mb=_mean(_number(r.get(RSS_COLUMN)) for r in rows),
        repeats=len(rows),
    )


def benchmark_key(path: str | Path) -> str:
    """A benchmark path below its ``benchmarks`` folder (``results/benchmarks/a/b.tsv`` ->
    ``a/b.tsv``), so a results tree read from elsewhere still matches the dry run."""
    parts = Path(path).parts
    if BENCHMARK_DIR not in parts:
        raise ValueError(f"{path}: not below a '{BENCHMARK_DIR}' folder")
    return Path(*parts[parts.index(BENCHMARK_DIR) + 1 :]).as_posix()


def read_benchmarks(results_dir: str | Path) -> dict[str, Benchmark]:
    """Every ``*.tsv`` under ``results_dir/benchmarks`` by ``benchmark_key``."""
    root = Path(results_dir) / BENCHMARK_DIR
    return {benchmark_key(p): read_benchmark(p) for p in sorted(root.rglob("*.tsv"))}


# --- Snakemake dry runs ------------------------------------------------------------------


@dataclass(frozen=True)
class DryRunJob:
    """One job of a dry run: its rule, files and benchmark path."""

    jobid: int
    rule: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    benchmark: str | None
    wildcards: str = ""


@dataclass(frozen=True)
class DryRun:
    """A parsed ``snakemake -n`` listing: its jobs and the job-stats table."""

    jobs: tuple[DryRunJob, ...]
    counts: dict[str, int]

    def dependencies(self) -> dict[int, set[int]]:
        """Per jobid, the jobids whose outputs it reads."""
        producer = {out: job.jobid for job in self.jobs for out in job.outputs}
        return {
            job.jobid: {producer[f] for f in job.inputs if f in producer} - {job.jobid}
            for job in self.jobs
        }


def _split_files(value: str) -> tuple[str, ...]:
    return tuple(f.strip() for f in value.split(", ") if f.strip())


def parse_job_stats(text: str) -> dict[str, int]:
    """The first ``Job stats:`` table of a Snakemake listing: rule -> number of jobs."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Job stats:")
    except StopIteration:
        raise ValueError("no 'Job stats:' table in the Snakemake output") from None
    counts: dict[str, int] = {}
    for line in lines[start + 1 :]:
        parts = line.split()
        if len(parts) != 2 or set(parts[0]) == {"-"} or parts[0] == "job":
            continue
        if parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def parse_dry_run(text: str) -> DryRun:
    """Jobs and job counts of ``snakemake -n`` output (a job per ``rule NAME:`` block)."""
    jobs: list[DryRunJob] = []
    current: dict[str, str] | None = None

    def close() -> None:
        if current is not None and "jobid" in current:
            jobs.append(
                DryRunJob(
                    jobid=int(current["jobid"]),
                    rule=current["rule"],
                    inputs=_split_files(current.get("input", "")),
                    outputs=_split_files(current.get("output", "")),
                    benchmark=current.get("benchmark") or None,
                    wildcards=current.get("wildcards", ""),
                )
            )

    for line in text.splitlines():
        header = _JOB_HEADER.match(line)
        if header:
            close()
            current = {"rule": header.group(1)}
            continue
        found = _JOB_FIELD.match(line) if current is not None else None
        if found:
            current.setdefault(found.group(1), found.group(2).strip())
        elif current is not None and not line.startswith(" "):
            close()
            current = None
    close()
    # a job is listed once; keep the first block if a listing repeats one
    unique = {job.jobid: job for job in reversed(jobs)}
    return DryRun(
        jobs=tuple(sorted(unique.values(), key=lambda j: j.jobid)), counts=parse_job_stats(text)
    )


def snakemake_dry_run(
    configfiles: Sequence[str | Path],
    snakemake: Sequence[str] = tuple(SNAKEMAKE),
    targets: Sequence[str] = (),
    workdir: Path = REPO_ROOT,
) -> DryRun:
    """``snakemake -n --forceall [targets] --configfile ...`` (targets first: --configfile
    takes every following word) in ``workdir``; raises RuntimeError when it fails."""
    command = [*snakemake, "-n", "--forceall", "--nolock", *targets]
    if configfiles:
        command += ["--configfile", *map(str, configfiles)]
    proc = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    text = proc.stdout + "\n" + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n{tail}")
    return parse_dry_run(text)


# --- aggregation ------------------------------------------------------------------------


def stage_of(rule: str) -> str:
    """The stage a rule belongs to (its name's prefix), else ``OTHER_STAGE``."""
    prefix = rule.split("_", 1)[0]
    return prefix if prefix in STAGES else OTHER_STAGE


@dataclass(frozen=True)
class JobTiming:
    """A measured job: its rule, stage, benchmark key and costs."""

    rule: str
    stage: str
    key: str
    wall_s: float
    cpu_s: float | None
    jobid: int | None = None


def match_jobs(benchmarks: Mapping[str, Benchmark], dry: DryRun | None) -> list[JobTiming]:
    """Pair every benchmark file with the dry-run job that writes it; a file no job writes
    gets the rule ``?`` and the stage of its folder's first word."""
    by_key = {benchmark_key(j.benchmark): j for j in dry.jobs if j.benchmark} if dry else {}
    out = []
    for key, b in benchmarks.items():
        job = by_key.get(key)
        if job is not None:
            out.append(JobTiming(job.rule, stage_of(job.rule), key, b.wall_s, b.cpu_s, job.jobid))
        else:
            out.append(JobTiming("?", stage_of(re.split(r"[/.]", key)[0]), key, b.wall_s, b.cpu_s))
    return out


@dataclass(frozen=True)
class Totals:
    """Costs of a group of jobs (a stage or a rule)."""

    name: str
    jobs: int
    wall_total_s: float
    wall_mean_s: float
    wall_max_s: float
    cpu_total_s: float | None
    cpu_mean_s: float | None


def _totals(name: str, jobs: Sequence[JobTiming]) -> Totals:
    walls = [j.wall_s for j in jobs]
    cpus = [j.cpu_s for j in jobs if j.cpu_s is not None]
    cpu_total = sum(cpus) if cpus else None
    return Totals(
        name=name,
        jobs=len(jobs),
        wall_total_s=sum(walls),
        wall_mean_s=sum(walls) / len(walls),
        wall_max_s=max(walls),
        cpu_total_s=cpu_total,
        cpu_mean_s=cpu_total / len(cpus) if cpus else None,
    )


def aggregate(jobs: Sequence[JobTiming], by: Callable[[JobTiming], str]) -> list[Totals]:
    """Totals per group (``by``: a job's group name), largest total wall first."""
    groups: dict[str, list[JobTiming]] = defaultdict(list)
    for job in jobs:
        groups[by(job)].append(job)
    rows = [_totals(name, members) for name, members in groups.items()]
    return sorted(rows, key=lambda t: (-t.wall_total_s, t.name))


def per_stage(jobs: Sequence[JobTiming]) -> list[Totals]:
    """Totals per stage in pipeline order (stages without a measured job left out)."""
    rows = {t.name: t for t in aggregate(jobs, lambda j: j.stage)}
    order = [*STAGES, OTHER_STAGE]
    return [rows[s] for s in order if s in rows]


def per_rule(jobs: Sequence[JobTiming]) -> list[Totals]:
    return aggregate(jobs, lambda j: j.rule)


# --- critical path ----------------------------------------------------------------------


def critical_path(
    dependencies: Mapping[int, set[int]], cost_s: Mapping[int, float]
) -> tuple[float, list[int]]:
    """Longest chain of dependent jobs by cost (jobs absent from ``cost_s`` cost 0).

    Returns (its total cost, its jobids from the first job to the last).
    """
    best: dict[int, tuple[float, int | None]] = {}

    def finish(job: int, visiting: frozenset[int] = frozenset()) -> float:
        if job in best:
            return best[job][0]
        if job in visiting:
            raise ValueError(f"dependency cycle through job {job}")
        before, via = 0.0, None
        for dep in sorted(dependencies.get(job, ())):
            t = finish(dep, visiting | {job})
            if t > before:
                before, via = t, dep
        best[job] = (before + cost_s.get(job, 0.0), via)
        return best[job][0]

    for job in dependencies:
        finish(job)
    if not best:
        return 0.0, []
    last = max(sorted(best), key=lambda j: best[j][0])
    chain: list[int] = []
    node: int | None = last
    while node is not None:
        chain.append(node)
        node = best[node][1]
    chain.reverse()
    # zero-cost jobs (unmeasured, or the `all` target) at either end say nothing about time
    while len(chain) > 1 and cost_s.get(chain[0], 0.0) == 0.0:
        chain.pop(0)
    while len(chain) > 1 and cost_s.get(chain[-1], 0.0) == 0.0:
        chain.pop()
    return best[last][0], chain


# --- projection -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaling:
    """Work of one job of a rule under a config, in the unit ``unit`` (``work``)."""

    unit: str
    work: Callable[[Any], float]


def _autoencoder_images(cfg: Any) -> float:
    data = cfg.autoencoder.data
    n_train = data.n_train_embedded if data.source == "embedded" else MNIST_IDX_TRAIN_IMAGES
    return float(cfg.autoencoder.training.epochs * n_train)


def _regressor_steps(cfg: Any) -> float:
    from bridge.regressor.data import window_starts

    reg = cfg.regressor
    t = reg.training
    n_windows = len(window_starts(reg.mackey_glass_params.n_train, t.window_steps, t.window_stride))
    adam_steps = math.ceil(n_windows / min(t.batch_size, n_windows))
    return float(t.epochs * adam_steps * t.window_steps)


_AE = Scaling("epochs x training images", _autoencoder_images)
_REG = Scaling(
    "epochs x Adam steps x window steps (sequential network steps; n_hidden and batch "
    "width ignored, so a lower bound where they grow)",
    _regressor_steps,
)
#: Rules whose cost per job is scaled by a work ratio between configs.
SCALINGS: dict[str, Scaling] = {
    "autoencoder_paper_run": _AE,
    "autoencoder_condition_run": _AE,
    "regressor_condition": _REG,
    "regressor_reference": _REG,
}
UNSCALED_NOTE = "jobs x mean cost (a lower bound where the config grows the rule's work)"


def load_layered_config(configfiles: Sequence[str | Path]) -> Any:
    """The typed config Snakemake sees: config/config.yaml, then each file merged on top."""
    from bridge.config import load_config, validate_config

    return validate_config(load_config([BASE_CONFIG, *configfiles]))


@dataclass(frozen=True)
class ProjectionRow:
    """Projected cost of one rule under the projected config."""

    rule: str
    stage: str
    jobs_measured: int
    jobs_projected: int
    wall_mean_s: float | None
    cpu_mean_s: float | None
    scale: float
    scaling: str
    wall_total_s: float | None
    cpu_total_s: float | None


def work_ratios(
    rules: Iterable[str], measured_cfg: Any, projected_cfg: Any
) -> dict[str, tuple[float, str]]:
    """Per rule, (work per job projected / measured, how); 1 and ``UNSCALED_NOTE`` unless
    the rule has a ``SCALINGS`` entry."""
    out = {}
    for rule in rules:
        s = SCALINGS.get(rule)
        if s is None or measured_cfg is None or projected_cfg is None:
            out[rule] = (1.0, UNSCALED_NOTE)
        else:
            out[rule] = (s.work(projected_cfg) / s.work(measured_cfg), s.unit)
    return out


def project(
    rules: Sequence[Totals],
    counts: Mapping[str, int],
    ratios: Mapping[str, tuple[float, str]],
) -> list[ProjectionRow]:
    """Jobs per rule (``counts``, a dry run's job stats) x measured mean cost x work ratio.

    Rules without measured jobs get None costs; rules the projected config does not run
    are left out.
    """
    measured = {t.name: t for t in rules}
    rows = []
    for rule, n in counts.items():
        if n == 0:
            continue
        t = measured.get(rule)
        scale, how = ratios.get(rule, (1.0, UNSCALED_NOTE))
        wall = t.wall_mean_s if t else None
        cpu = t.cpu_mean_s if t else None
        rows.append(
            ProjectionRow(
                rule=rule,
                stage=stage_of(rule),
                jobs_measured=t.jobs if t else 0,
                jobs_projected=n,
                wall_mean_s=wall,
                cpu_mean_s=cpu,
                scale=scale,
                scaling=how,
                wall_total_s=None if wall is None else n * wall * scale,
                cpu_total_s=None if cpu is None else n * cpu * scale,
            )
        )
    return sorted(rows, key=lambda r: (-(r.cpu_total_s or 0.0), r.rule))


def projected_stages(rows: Sequence[ProjectionRow]) -> dict[str, dict[str, float]]:
    """Projected wall and CPU seconds per stage (pipeline order; measured rules only)."""
    out: dict[str, dict[str, float]] = {}
    for stage in (*STAGES, OTHER_STAGE):
        mine = [r for r in rows if r.stage == stage and r.wall_total_s is not None]
        if mine:
            out[stage] = {
                "wall_s": sum(r.wall_total_s for r in mine),
                "cpu_s": sum(r.cpu_total_s or 0.0 for r in mine),
            }
    return out


def projected_job_cost(dry: DryRun, rows: Sequence[ProjectionRow]) -> dict[int, float]:
    """Wall seconds per job of a projected dry run (its rule's mean x work ratio)."""
    per_job = {r.rule: r.wall_mean_s * r.scale for r in rows if r.wall_mean_s is not None}
    return {j.jobid: per_job[j.rule] for j in dry.jobs if j.rule in per_job}


# --- GPU rows ---------------------------------------------------------------------------


def _cuda_records(value: Any, path: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    """(JSON path, record) of every mapping whose ``device`` names CUDA."""
    found = []
    if isinstance(value, Mapping):
        device = value.get("device")
        if isinstance(device, str) and device.startswith("cuda"):
            found.append((path or "/", value))
        for k, v in value.items():
            found.extend(_cuda_records(v, f"{path}/{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_cuda_records(v, f"{path}/{i}"))
    return found


def gpu_rows(folders: Sequence[str | Path]) -> list[dict[str, Any]]:
    """Records naming a CUDA device in the bench JSON files under ``folders``."""
    rows = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.json")) if Path(folder).is_dir() else []:
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            for where, record in _cuda_records(data):
                scalars = {k: v for k, v in record.items() if isinstance(v, (int, float, str))}
                rows.append({"file": str(path), "at": where, **scalars})
    return rows


# --- report -----------------------------------------------------------------------------


@dataclass
class Report:
    """Everything the script prints (and writes with --json)."""

    results: str
    configfiles: list[str]
    dag_source: str
    stages: list[Totals]
    rules: list[Totals]
    unmatched: list[str]
    critical_path_s: float | None
    critical_path: list[dict[str, Any]]
    projection_config: list[str] = field(default_factory=list)
    projection: list[ProjectionRow] = field(default_factory=list)
    projection_totals: dict[str, Any] = field(default_factory=dict)
    gpu: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _print_totals(title: str, rows: Sequence[Totals]) -> None:
    print(f"\n{title}")
    print(
        f"{'':28} {'jobs':>5} {'wall s':>9} {'mean s':>8} {'max s':>8} {'CPU s':>9} {'wall %':>7}"
    )
    all_wall = sum(r.wall_total_s for r in rows)
    for r in rows:
        share = 100 * r.wall_total_s / all_wall if all_wall else 0.0
        print(
            f"{r.name:28} {r.jobs:>5} {r.wall_total_s:>9.1f} {r.wall_mean_s:>8.1f} "
            f"{r.wall_max_s:>8.1f} {_fmt(r.cpu_total_s):>9} {share:>7.1f}"
        )
    cpu = [r.cpu_total_s for r in rows if r.cpu_total_s is not None]
    print(
        f"{'total':28} {sum(r.jobs for r in rows):>5} {all_wall:>9.1f} {'':>8} {'':>8} "
        f"{_fmt(sum(cpu) if cpu else None):>9}"
    )


def print_report(rep: Report, cores: int) -> None:
    print(f"benchmarks: {rep.results}/{BENCHMARK_DIR} (run config: "
          f"{_config_label(rep.configfiles)})")  # fmt: skip
    print(f"DAG: {rep.dag_source}")
    _print_totals("per stage (wall s: sum of the jobs' wall times)", rep.stages)
    _print_totals("per rule", rep.rules)
    print(CPU_NOTE)
    if rep.unmatched:
        print(f"\nbenchmark files no job of the dry run writes ({len(rep.unmatched)}): "
              + ", ".join(rep.unmatched))  # fmt: skip
    print("\ncritical path (longest chain of dependent jobs by measured wall time)")
    if rep.critical_path_s is None:
        print("  not available (no DAG)")
    else:
        for step in rep.critical_path:
            print(f"  {step['wall_s']:>8.1f} s  {step['rule']}  {step['what']}")
        print(f"  {rep.critical_path_s:>8.1f} s  total")
    if rep.projection:
        print(f"\nprojection: {_config_label(rep.projection_config)} (jobs from its dry run x "
              "measured mean per job x work ratio)")  # fmt: skip
        print(f"{'rule':28} {'jobs':>5} {'meas.':>5} {'mean wall':>9} {'mean CPU':>9} "
              f"{'x ratio':>8} {'wall s':>10} {'CPU s':>10}")  # fmt: skip
        for r in rep.projection:
            print(
                f"{r.rule:28} {r.jobs_projected:>5} {r.jobs_measured:>5} "
                f"{_fmt(r.wall_mean_s):>9} {_fmt(r.cpu_mean_s):>9} {r.scale:>8.2f} "
                f"{_fmt(r.wall_total_s, '.0f'):>10} {_fmt(r.cpu_total_s, '.0f'):>10}"
            )
        t = rep.projection_totals
        print(f"{'total (measured rules)':28} {t['jobs']:>5} {'':>5} {'':>9} {'':>9} {'':>8} "
              f"{t['wall_s']:>10.0f} {t['cpu_s']:>10.0f}")  # fmt: skip
        print("per stage: " + "; ".join(
            f"{name} {v['wall_s']:.0f} s wall, {v['cpu_s']:.0f} CPU-s"
            for name, v in t["stages"].items()
        ))  # fmt: skip
        if t["not_measured"]:
            print(f"not measured (no cost in the totals): {', '.join(t['not_measured'])}")
        for rule, how in t["scalings"].items():
            print(f"ratio of {rule}: {how}")
        print(f"other rules: {UNSCALED_NOTE}")
        if t.get("critical_path_s") is not None:
            print(
                f"projected critical path {t['critical_path_s']:.0f} s; wall on {cores} cores "
                f">= max(critical path, sum of job wall / {cores}) = "
                f"{max(t['critical_path_s'], t['wall_s'] / cores):.0f} s (measured rules only, "
                "each job at the measured run's threads)"
            )
    print("\nGPU rows")
    if not rep.gpu:
        print("  none (no bench JSON names a cuda device)")
    for row in rep.gpu:
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
    for note in rep.notes:
        print(f"note: {note}")


def _config_label(files: Sequence[str]) -> str:
    """How Snakemake layers ``files``: config/config.yaml, then each file on top."""
    extra = [f for f in files if Path(f).resolve() != BASE_CONFIG]
    return " + ".join(["config/config.yaml", *extra]) + ("" if extra else " (the full config)")


def build_report(args: argparse.Namespace) -> Report:
    benchmarks = read_benchmarks(args.results)
    if not benchmarks:
        raise SystemExit(f"no benchmark files under {Path(args.results) / BENCHMARK_DIR}")
    notes: list[str] = []
    dry: DryRun | None = None
    dag_source = "none"
    try:
        dry = snakemake_dry_run(args.configfile, args.snakemake)
        dag_source = (
            f"{' '.join(args.snakemake)} -n --forceall --configfile {' '.join(args.configfile)} "
            f"({len(dry.jobs)} jobs; an edge where a job reads another's output)"
        )
    except (OSError, RuntimeError, ValueError) as error:
        notes.append(f"dry run of the measured config failed, no rules or DAG: {error}")
    jobs = match_jobs(benchmarks, dry)
    rules = per_rule(jobs)
    by_id = {j.jobid: j for j in dry.jobs} if dry else {}
    path_s: float | None = None
    path: list[dict[str, Any]] = []
    if dry is not None:
        cost = {j.jobid: j.wall_s for j in jobs if j.jobid is not None}
        path_s, chain = critical_path(dry.dependencies(), cost)
        path = [
            {
                "jobid": i,
                "rule": by_id[i].rule,
                "what": by_id[i].wildcards,
                "wall_s": cost.get(i, 0.0),
                "measured": i in cost,
            }
            for i in chain
        ]
    rep = Report(
        results=str(args.results),
        configfiles=[str(c) for c in args.configfile],
        dag_source=dag_source,
        stages=per_stage(jobs),
        rules=rules,
        unmatched=[j.key for j in jobs if j.rule == "?"],
        critical_path_s=path_s,
        critical_path=path,
        notes=notes,
    )
    if args.project:
        try:
            projected = snakemake_dry_run(args.project, args.snakemake)
        except (OSError, RuntimeError, ValueError) as error:
            rep.notes.append(f"dry run of the projected config failed, no projection: {error}")
            rep.gpu = gpu_rows(args.gpu_json)
            return rep
        measured_cfg = load_layered_config(args.configfile)
        projected_cfg = load_layered_config(args.project)
        # rules without a benchmark file (the `all` target) cost nothing to project
        timed = {j.rule for j in projected.jobs if j.benchmark}
        counts = {r: n for r, n in projected.counts.items() if r in timed}
        ratios = work_ratios(counts, measured_cfg, projected_cfg)
        rows = project(rules, counts, ratios)
        done = [r for r in rows if r.cpu_total_s is not None]
        walls = [r for r in rows if r.wall_total_s is not None]
        cp, _ = critical_path(projected.dependencies(), projected_job_cost(projected, rows))
        rep.projection_config = [str(c) for c in args.project]
        rep.projection = rows
        rep.projection_totals = {
            "jobs": sum(r.jobs_projected for r in rows),
            "wall_s": sum(r.wall_total_s for r in walls),
            "cpu_s": sum(r.cpu_total_s for r in done),
            "not_measured": [r.rule for r in rows if r.wall_mean_s is None],
            "scalings": {
                r.rule: f"x {r.scale:.2f} ({r.scaling})" for r in rows if r.rule in SCALINGS
            },
            "critical_path_s": cp,
            "stages": projected_stages(rows),
        }
    rep.gpu = gpu_rows(args.gpu_json)
    return rep


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "results")
    parser.add_argument(
        "--configfile",
        nargs="*",
        default=["config/quick.yaml"],
        help="config files of the measured run, merged on config/config.yaml (none: the "
        "full config)",
    )
    parser.add_argument(
        "--project",
        nargs="+",
        default=None,
        help="config files to project, merged on config/config.yaml (config/config.yaml: "
        "the full config)",
    )
    parser.add_argument("--cores", type=int, default=2, help="cores for the wall bound")
    parser.add_argument("--snakemake", nargs="+", default=SNAKEMAKE, help="command")
    parser.add_argument(
        "--gpu-json",
        nargs="*",
        type=Path,
        default=[REPO_ROOT / "results" / "bench"],
        help="folders searched for bench JSON files naming a cuda device",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    rep = build_report(args)
    print_report(rep, args.cores)
    if args.json is not None:
        from bridge.io import write_json

        write_json(args.json, asdict(rep))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
