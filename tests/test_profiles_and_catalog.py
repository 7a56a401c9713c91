"""The SLURM profile and the workflow catalog's settings file hold what they claim.

The profile is read by Snakemake itself (dry runs with --workflow-profile); its commented
partition example for the training rules, once uncommented as a user would, must name real
rules and put exactly those jobs on the partition while their memory and time stay the
config's. The catalog file may use only the keys the catalog documents, and its claims must
match the workflow (a report directive, no container images).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from workflow_helpers import run_snakemake

from bridge.config import load_config

pytestmark = pytest.mark.workflow

#: A job's header and its resources line in Snakemake's dry-run listing.
JOB_BLOCK = re.compile(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", re.M | re.S)
RESOURCES = re.compile(r"^\s+resources: (.*)$", re.M)
RULE_NAME = re.compile(r"^rule (\w+):", re.M)
#: An example line of the profile once its "# " is taken away: "<indent><key>:[ value]".
EXAMPLE_LINE = re.compile(r"^(\s*)# (\s*)(\w+):(.*)$")
EXAMPLE_MARKER = "# Example to adapt: the training rules"
TRAINING_RULES = {"autoencoder_paper_run", "autoencoder_condition_run", "autoencoder_label_run",
                  "regressor_condition", "regressor_reference"}  # fmt: skip
PARTITION = "train_partition"
#: The keys the catalog documents for .snakemake-workflow-catalog.yml ("Standardized usage").
CATALOG_KEYS = {"usage": {"mandatory-flags": {"desc", "flags"},
                          "software-stack-deployment": {"conda", "apptainer", "apptainer+conda",
                                                        "report"}}}  # fmt: skip


def workflow_rules(repo_root: Path) -> set[str]:
    sources = [repo_root / "Snakefile", *sorted((repo_root / "workflow" / "rules").glob("*.smk"))]
    return {name for path in sources for name in RULE_NAME.findall(path.read_text())}


def uncomment_example(text: str, partition: str) -> str:
    """The profile with its training-partition example uncommented, placeholder filled in."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if EXAMPLE_MARKER in line)
    out = lines[:start]
    for line in lines[start:]:
        match = EXAMPLE_LINE.match(line)
        if match and (match.group(3) == "slurm_partition" or match.group(4) == ""):
            indent, inner, key, value = match.groups()
            value = ' "' + partition + '"' if key == "slurm_partition" else value
            out.append(f"{indent}{inner}{key}:{value}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def job_resources(output: str) -> list[tuple[str, dict[str, str]]]:
    jobs = []
    for rule, body in JOB_BLOCK.findall(output):
        match = RESOURCES.search(body)
        pairs = match.group(1).split(", ") if match else []
        jobs.append((rule, dict(pair.split("=", 1) for pair in pairs)))
    return jobs


def test_slurm_profile_parses_and_its_example_names_real_rules(repo_root: Path) -> None:
    profile = yaml.safe_load((repo_root / "profiles" / "slurm" / "config.yaml").read_text())
    rules = workflow_rules(repo_root)
    assert set(profile["set-resources"]) <= rules
    text = (repo_root / "profiles" / "slurm" / "config.yaml").read_text()
    example = yaml.safe_load(uncomment_example(text, PARTITION))["set-resources"]
    assert {name for name in example if name not in profile["set-resources"]} == TRAINING_RULES
    assert TRAINING_RULES <= rules
    assert all(example[name] == {"slurm_partition": PARTITION} for name in TRAINING_RULES)


def test_training_partition_example_reaches_only_training_jobs(
    repo_root: Path, tmp_path: Path
) -> None:
    profile_dir = tmp_path / "profile"
    profile_dir.mkdir()
    text = (repo_root / "profiles" / "slurm" / "config.yaml").read_text()
    (profile_dir / "config.yaml").write_text(uncomment_example(text, PARTITION))
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copy(repo_root / "config" / "conditions.tsv", workdir / "conditions.tsv")
    # The profile as shipped is read by Snakemake (a dry run would stop on a bad key).
    shipped = run_snakemake(
        repo_root, workdir, "hh_all", "--dry-run",
        "--workflow-profile", str(repo_root / "profiles" / "slurm"),
    )  # fmt: skip
    assert shipped.returncode == 0, shipped.stdout[-3000:] + shipped.stderr[-3000:]
    adapted = run_snakemake(
        repo_root, workdir, "all", "--dry-run", "--workflow-profile", str(profile_dir)
    )
    assert adapted.returncode == 0, adapted.stdout[-3000:] + adapted.stderr[-3000:]
    config = load_config([repo_root / "config" / "config.yaml",
                          repo_root / "tests" / "configs" / "tiny.yaml"])  # fmt: skip
    jobs = job_resources(adapted.stdout)
    assert {rule for rule, _ in jobs} >= TRAINING_RULES - {"autoencoder_label_run"}
    for rule, resources in jobs:
        if rule in TRAINING_RULES:
            assert resources.get("slurm_partition") == PARTITION, rule
            section = config["autoencoder" if rule.startswith("autoencoder") else "regressor"]
            assert int(resources["mem_mb"]) == section["mem_mb"], rule
            assert int(resources["runtime"]) == section["runtime_min"], rule
        else:
            assert "slurm_partition" not in resources, rule


def test_catalog_file_uses_documented_keys_and_matches_the_workflow(repo_root: Path) -> None:
    settings = yaml.safe_load((repo_root / ".snakemake-workflow-catalog.yml").read_text())
    assert set(settings) <= set(CATALOG_KEYS)
    for section, keys in settings["usage"].items():
        assert set(keys) <= CATALOG_KEYS["usage"][section], section
    flags = settings["usage"]["mandatory-flags"]["flags"]
    assert isinstance(flags, str) or all(isinstance(flag, str) for flag in flags)
    deployment = settings["usage"]["software-stack-deployment"]
    assert all(isinstance(value, bool) for value in deployment.values())
    snakefile = (repo_root / "Snakefile").read_text()
    rule_text = snakefile + "".join(
        path.read_text() for path in (repo_root / "workflow" / "rules").glob("*.smk")
    )
    assert deployment["report"] == bool(re.search(r"^report:", snakefile, re.M))
    has_container = bool(re.search(r"^\s*container:", rule_text, re.M))
    assert deployment["apptainer"] == deployment["apptainer+conda"] == has_container
    # conda: true claims every rule that runs code (script, shell or run) names an environment.
    runs_code = len(re.findall(r"^\s+(?:script|shell|run):", rule_text, re.M))
    names_env = len(re.findall(r"^\s+conda:", rule_text, re.M))
    assert deployment["conda"] == (names_env == runs_code > 0)
