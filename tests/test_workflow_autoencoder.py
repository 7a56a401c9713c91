"""The autoencoder stage through Snakemake on the tiny config, from hand-written mapping JSONs
(only the autoencoder's rules may run): the DAG per condition, one real end-to-end run, and
that a new condition schedules only its own runs."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_helpers import scheduled_jobs

from bridge.io import write_json

pytestmark = pytest.mark.workflow

AE_RULES = ["autoencoder_mnist_download",
            "autoencoder_paper_run", "autoencoder_condition_run", "autoencoder_label_run",
            "autoencoder_msel",
            "autoencoder_msel_null", "autoencoder_summary", "autoencoder_figures",
            "autoencoder_all"]  # fmt: skip
HEADER = (
    "name\tgnabar\tgkbar\tgl\tm_shift_mV\th_shift_mV\tnap_fraction\tcelsius\tv_rest_mV\tdescription"
)
#: Dry-run job blocks: rule name, then its input and output lines.
JOB_BLOCK = re.compile(r"rule (\w+):\n\s+input: ([^\n]*)\n\s+output: ([^\n]*)")
TRAINING_RULES = ("autoencoder_paper_run", "autoencoder_condition_run", "autoencoder_label_run")
#: The full protocol's MNIST files, as the download writes them (config.yaml's mnist_dir).
MNIST_GZ = [f"data/mnist/{stem}.gz" for stem in ("train-images-idx3-ubyte",
            "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]  # fmt: skip


def mapping(condition: str, usable: bool = True) -> dict:
    """The fields of results/mapping/{condition}.json the autoencoder reads."""
    return {
        "condition": condition,
        "status": "ok" if usable else "spontaneous_only",
        "use_downstream": usable,
        "downstream_rule": "use beta_fit, bias_fit, beta_syn, alpha_syn when use_downstream",
        "beta_fit": 0.8 if usable else None,
        "alpha_syn": 0.9,
        "beta_syn": 0.8 if usable else None,
        "bias_fit": 0.05 if usable else None,
    }


def setup_workdir(
    root: Path,
    conditions: dict[str, bool],
    sigmas: list[float],
    paper: list[str],
    protocols: list[dict[str, str]] | None = None,
    label_arm: bool = False,
) -> Path:
    rows = [f"{name}\t0.12\t0.036\t0.0003\t\t\t\t\t\ttest row" for name in conditions]
    (root / "conditions.tsv").write_text("\n".join([HEADER, *rows]) + "\n")
    for name, usable in conditions.items():
        write_json(root / "results" / "mapping" / f"{name}.json", mapping(name, usable))
    noise: dict = {"sigmas": sigmas, "clamp": False}
    if protocols is not None:
        noise["protocols"] = protocols
    override = {"noise": noise, "run_paper_scenarios": paper, "label_arm": label_arm}
    (root / "override.yaml").write_text(yaml.safe_dump({"autoencoder": override}))
    return root


def snakemake(repo_root: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(repo_root / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(repo_root / "config" / "config.yaml"),
        str(repo_root / "tests" / "configs" / "tiny.yaml"), str(workdir / "override.yaml"),
        "--config", f"conditions={workdir / 'conditions.tsv'}",
        "--cores", "2",
        "--allowed-rules", *AE_RULES,
        *args,
        "--", "autoencoder_all",
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def full_config_dry_run(
    repo_root: Path, workdir: Path, *configfiles: Path, dry: bool = True
) -> subprocess.CompletedProcess:
    """config.yaml alone (plus ``configfiles``): the full protocol, MNIST from data/mnist."""
    cmd = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(repo_root / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(repo_root / "config" / "config.yaml"), *map(str, configfiles),
        "--config", f"conditions={workdir / 'conditions.tsv'}",
        "--cores", "2", *(["--dry-run"] if dry else []),
        "--allowed-rules", *AE_RULES,
        "--", "autoencoder_all",
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_dag_trains_each_condition_from_its_own_mapping(repo_root: Path, tmp_path: Path) -> None:
    conditions = {"control": True, "intermediate": True, "hyperexcitable": False}
    workdir = setup_workdir(tmp_path, conditions, [0.0, 0.2], ["s1_benchmark", "s3_syn_beta"])
    result = snakemake(repo_root, workdir, "--dry-run")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    jobs = scheduled_jobs(result.stdout + result.stderr)
    # paper: (benchmark + scenario 3 + the frozen-offset benchmark) x 2 sigmas + the null-seed
    # benchmark; conditions: 3 x 2 offset arms x 2 sigmas; MSEl: scenario 3 and the three
    # conditions' two arms against their benchmark, plus the null pair
    assert jobs == {"autoencoder_paper_run": 7, "autoencoder_condition_run": 12,
                    "autoencoder_msel": 7, "autoencoder_msel_null": 1,
                    "autoencoder_summary": 1, "autoencoder_figures": 1,
                    "autoencoder_all": 1}, jobs  # fmt: skip
    blocks = [b for b in JOB_BLOCK.findall(result.stdout + result.stderr)
              if b[0] == "autoencoder_condition_run"]  # fmt: skip
    assert len(blocks) == 12
    arms = []
    for _, inputs, outputs in blocks:
        condition = re.search(r"results/mapping/(\w+)\.json", inputs).group(1)
        assert inputs.strip() == f"results/mapping/{condition}.json"
        arm = re.match(rf"results/autoencoder/cond_{condition}(\.frozen)?/sigma", outputs)
        assert arm is not None, outputs
        arms.append(arm.group(1) or "")
    assert arms.count(".frozen") == arms.count("") == 6


def test_full_config_dry_run_adds_per_step_noise_and_label_arms(
    repo_root: Path, tmp_path: Path
) -> None:
    """The full protocol (config.yaml alone) trains a label-mapping arm per condition and every
    scenario again under per-step noise at the three noisy sigmas, under their own names; the
    noiseless runs are shared."""
    setup_workdir(tmp_path, {"control": True, "intermediate": True, "hyper": True}, [0.0], [])
    result = full_config_dry_run(repo_root, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    output = result.stdout + result.stderr
    jobs = scheduled_jobs(output)
    # MNIST is downloaded once, by the local rule, before any training job, which reads it
    assert jobs.pop("autoencoder_mnist_download") == 1, jobs
    download = re.search(r"rule autoencoder_mnist_download:\n\s+output: ([^\n]*)", output)
    assert download is not None and download.group(1).split(", ") == MNIST_GZ
    first_training = min(output.index(f"rule {name}:") for name in TRAINING_RULES)
    assert download.start() < first_training
    training = [b for b in re.findall(r"\nrule (\w+):\n\s+input: ([^\n]*)", output)
                if b[0] in TRAINING_RULES]  # fmt: skip
    assert len(training) == 126 + 126 + 63
    assert all(inputs.split(", ")[-4:] == MNIST_GZ for _, inputs in training)
    # Main protocol: (5 paper scenarios + the frozen-offset benchmark), 3 conditions x 2
    # offset arms and 3 label arms, x 4 sigmas x 3 seeds = 72 + 72 + 36 runs; per-step noise:
    # the same 6 + 6 + 3 scenarios x 3 noisy sigmas x 3 seeds = 54 + 54 + 27. MSEl: 4 paper
    # scenarios + 6 condition arms + 3 label arms per protocol (the benchmark arms are the
    # references).
    assert jobs == {"autoencoder_paper_run": 72 + 54, "autoencoder_condition_run": 72 + 54,
                    "autoencoder_label_run": 36 + 27,
                    "autoencoder_msel": 13 + 13, "autoencoder_msel_null": 1,
                    "autoencoder_summary": 1, "autoencoder_figures": 1,
                    "autoencoder_all": 1}, jobs  # fmt: skip
    per_step = re.findall(r"output: results/autoencoder/([^/]+)/sigma([^/]+)/seed", output)
    extra = [(name, sigma) for name, sigma in per_step if name.endswith(".per_step_clean")]
    assert len(extra) == 108 + 27 and {sigma for _, sigma in extra} == {"0.1", "0.2", "0.3"}
    assert "results/autoencoder/msel/cond_hyper.frozen.per_step_clean.json" in output
    # a label arm reads no mapping file: its jobs' only inputs are the MNIST files
    blocks = JOB_BLOCK.findall(output)
    blocks = [(inputs, out) for rule, inputs, out in blocks if rule == "autoencoder_label_run"]
    assert len(blocks) == 63 and all(inputs.split(", ") == MNIST_GZ for inputs, _ in blocks)
    assert {re.match(r"results/autoencoder/(cond_\w+\.label)", out).group(1)
            for _, out in blocks} == {"cond_control.label", "cond_intermediate.label",
                                      "cond_hyper.label"}  # fmt: skip


def test_mnist_download_is_a_local_rule_and_embedded_has_none(
    repo_root: Path, tmp_path: Path
) -> None:
    """On a cluster the download runs where Snakemake runs (a dry run prints every job as
    local, so the rule's flag is read from the parsed workflow); the embedded source (the
    tiny and quick configs) defines no download rule at all."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, ResourceSettings

    setup_workdir(tmp_path, {"control": True}, [0.0], [])
    local = {}
    for name, files in (("full", []), ("tiny", [repo_root / "tests" / "configs" / "tiny.yaml"])):
        with SnakemakeApi() as api:
            workflow = api.workflow(
                resource_settings=ResourceSettings(cores=1),
                config_settings=ConfigSettings(
                    configfiles=[repo_root / "config" / "config.yaml", *files],
                    config={"conditions": str(tmp_path / "conditions.tsv")},
                ),
                snakefile=repo_root / "Snakefile",
                workdir=tmp_path,
            )
            parsed = workflow._workflow  # the rules and their local flags, parsed
            rules = {rule.name for rule in parsed.rules}
            local[name] = (sorted(parsed._localrules), "autoencoder_mnist_download" in rules)
    assert local == {"full": (["autoencoder_mnist_download"], True), "tiny": ([], False)}


def test_mnist_without_download_fails_before_any_job_naming_the_folder(
    repo_root: Path, tmp_path: Path
) -> None:
    """download: false (a cluster without network) and no MNIST files: Snakemake stops while
    building the DAG, naming where the files go; once they are there, no download job and the
    training jobs read them."""
    setup_workdir(tmp_path, {"control": True}, [0.0], [])
    offline = tmp_path / "offline.yaml"
    offline.write_text(yaml.safe_dump({"autoencoder": {"data": {"download": False}}}))
    result = full_config_dry_run(repo_root, tmp_path, offline, dry=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    folder = tmp_path / "data" / "mnist"
    assert f"missing from {folder.resolve()}" in output, output[-4000:]
    assert "autoencoder.data.download is false" in output
    assert "train-images-idx3-ubyte.gz" in output and "t10k-labels-idx1-ubyte.gz" in output
    # no job ran: no job block, no log, no result
    assert "Job stats" not in output and not re.search(r"^(local)?rule \w+:$", output, re.M)
    assert not (tmp_path / "results" / "logs").exists()
    assert not list((tmp_path / "results").glob("autoencoder*"))

    # the files put there by hand (raw IDX names): the DAG builds and reads them
    folder.mkdir(parents=True)
    raw = [name.removesuffix(".gz").removeprefix("data/mnist/") for name in MNIST_GZ]
    for name in raw:
        (folder / name).write_bytes(b"")
    result = full_config_dry_run(repo_root, tmp_path, offline)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "rule autoencoder_mnist_download:" not in output
    assert "autoencoder_mnist_download" not in scheduled_jobs(output)
    inputs = [b[1] for b in JOB_BLOCK.findall(output) if b[0] == "autoencoder_condition_run"]
    assert inputs and all(
        i.split(", ") == ["results/mapping/control.json", *(f"data/mnist/{n}" for n in raw)]
        for i in inputs
    ), inputs[:2]


def test_end_to_end_and_a_new_condition_trains_only_itself(repo_root: Path, tmp_path: Path) -> None:
    # Twenty-six script jobs (each mostly Python and torch start-up): the benchmark at both
    # sigmas and at the null seed, the frozen-offset benchmark and one condition's two offset
    # arms and label arm at both sigmas, the five again under per-step noise at sigma 0.2, the
    # arms' MSEl, the null MSEl, tables, figures. Two sigmas: the compare stage's noisy level
    # must be one.
    protocols = [{"sampling": "per_image", "target": "clean"},
                 {"sampling": "per_step", "target": "clean"}]  # fmt: skip
    workdir = setup_workdir(
        tmp_path, {"control": True}, [0.0, 0.2], ["s1_benchmark"], protocols, label_arm=True
    )
    result = snakemake(repo_root, workdir)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = workdir / "results" / "autoencoder"
    runs = pd.read_csv(out / "summary" / "runs.csv")
    step = ".per_step_clean"
    assert sorted(runs["scenario"]) == sorted(
        ["cond_control"] * 2 + ["cond_control.frozen"] * 2 + ["cond_control.label"] * 2
        + ["s1_benchmark"] * 3 + ["s1_benchmark.frozen"] * 2
        + [f"{name}{step}" for name in ("s1_benchmark", "s1_benchmark.frozen", "cond_control",
                                        "cond_control.frozen", "cond_control.label")]
    )  # fmt: skip
    assert (runs["status"] == "ok").all() and runs["test_mse_final"].notna().all()
    label = runs["scenario"].str.startswith("cond_control.label")
    fitted = runs["scenario"].str.startswith("cond_control") & ~label
    assert (runs.loc[fitted, "bias"] == 0.05).all() and (runs.loc[fitted, "beta"] == 0.8).all()
    assert (runs.loc[fitted, "beta_source"] == "fitted").all()
    # the label arm: beta = exp(-gnabar) of the row (0.12), the benchmark's other constants
    assert (runs.loc[label, "beta_source"] == "label").all()
    assert runs.loc[label, "beta"].tolist() == pytest.approx([math.exp(-0.12)] * 3)
    assert (runs.loc[label, "label_gnabar"] == 0.12).all()
    assert (runs.loc[label, ["bias", "alpha", "beta_syn"]] == [0.0, 0.9, 0.9]).all().all()
    assert (runs.loc[~label & ~fitted, "beta_source"] == "config").all()
    per_step = runs["scenario"].str.endswith(step)
    assert (runs.loc[per_step, "noise_sampling"] == "per_step").all()
    assert (runs.loc[per_step, "sigma"] == 0.2).all()
    assert (runs.loc[~per_step, "noise_sampling"] == "per_image").all()
    assert (runs["noise_target"] == "clean").all()
    frozen = runs["scenario"].str.contains(".frozen", regex=False)
    assert (runs.loc[frozen, "offsets"] == "frozen").all()
    assert (runs.loc[~frozen, "offsets"] == "trained").all()
    assert not runs["beta_unidentified"].any()
    # the mapped bias against each layer's input spread (positive where the bias is)
    assert (runs.loc[runs["bias"] > 0, "bias_over_input_sd_EC_Lk1"] > 0).all()
    table = pd.read_csv(out / "summary" / "table2.csv")
    assert list(table["scenario"]) == [
        "s1_benchmark", "s1_benchmark.frozen", "cond_control", "cond_control.frozen",
        "cond_control.label",
    ]  # fmt: skip
    msel_files = json.loads((out / "msel" / "cond_control.frozen.json").read_text())
    assert {c["reference"] for c in msel_files["comparisons"]} == {"s1_benchmark.frozen"}
    msel_step = json.loads((out / "msel" / f"cond_control.frozen{step}.json").read_text())
    assert {c["reference"] for c in msel_step["comparisons"]} == {f"s1_benchmark.frozen{step}"}
    msel = pd.read_csv(out / "summary" / "msel.csv")
    assert set(msel["kind"]) == {"seed_pair", "scenario"}
    # the null seed runs at sigma 0 only: the scenario rows there have one null pair
    at_zero = (msel["kind"] == "scenario") & (msel["sigma"] == 0.0)
    assert at_zero.any() and msel.loc[at_zero, "n_null"].eq(1).all()
    for name in ("table2", "layer_rates", "network_rate", "layer_rates_conditions",
                 "mse_vs_sigma", "reconstructions"):  # fmt: skip
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
    assert (workdir / "results/logs/autoencoder/cond_control/sigma0/seed123.log").is_file()
    assert (workdir / "results/benchmarks/autoencoder/s1_benchmark/sigma0/seed999.tsv").is_file()

    # A new (unusable) condition: its run, its MSEl, the tables and figures; nothing else.
    with (workdir / "conditions.tsv").open("a") as fh:
        fh.write("silent\t0.0\t0.036\t0.0003\t\t\t\t\t\tadded by a test\n")
    write_json(workdir / "results" / "mapping" / "silent.json", mapping("silent", False))
    result = snakemake(repo_root, workdir, "--dry-run")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    jobs = scheduled_jobs(result.stdout + result.stderr)
    # two offset arms and the label arm x 2 sigmas, and again under per-step noise at 0.2
    assert jobs == {"autoencoder_condition_run": 4 + 2, "autoencoder_label_run": 2 + 1,
                    "autoencoder_msel": 3 + 3, "autoencoder_summary": 1,
                    "autoencoder_figures": 1, "autoencoder_all": 1}, jobs  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_snakemake_state(tmp_path: Path):
    yield
    shutil.rmtree(tmp_path / ".snakemake", ignore_errors=True)
