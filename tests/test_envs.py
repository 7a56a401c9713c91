"""Conda cannot run here, so the environment files are checked statically against the pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml


def read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def env_files(repo_root: Path) -> list[Path]:
    return sorted((repo_root / "envs").glob("*.yaml"))


def test_one_env_per_stack(repo_root: Path) -> None:
    assert {p.stem for p in env_files(repo_root)} == {"simulation", "training", "analysis"}


@pytest.mark.parametrize("stack", ["simulation", "training", "analysis"])
def test_env_pins_equal_constraints(repo_root: Path, stack: str) -> None:
    pins = read_pins(repo_root / "constraints.txt")
    env = yaml.safe_load((repo_root / "envs" / f"{stack}.yaml").read_text())
    assert "conda-forge" in env["channels"]
    checked = 0
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep["pip"]:
                name, version = spec.split("==")
                assert pins[name.lower()] == version, f"{stack}: pip {spec} vs constraints"
                checked += 1
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:=(\S+))?", dep)
        assert match, dep
        name, version = match.groups()
        if name == "python":
            assert version == "3.11"
        elif name != "pip":
            assert version is not None, f"{stack}: {name} is not pinned"
            assert pins[name.lower()] == version, f"{stack}: {dep} vs constraints"
            checked += 1
    assert checked >= 5


def test_every_rule_env_exists(repo_root: Path) -> None:
    for smk in (repo_root / "workflow" / "rules").glob("*.smk"):
        for ref in re.findall(r'conda:\s*\n\s*"([^"]+)"', smk.read_text()):
            assert (smk.parent / ref).resolve().is_file(), f"{smk.name}: {ref}"
