"""The checked-in config schema and config/README.md are what the models generate."""

from pathlib import Path

import pytest
import yaml

from bridge.config import BridgeConfig
from bridge.config.generate import REGENERATE, generated_files


@pytest.mark.parametrize("path", list(generated_files()), ids=lambda p: p.name)
def test_generated_file_is_current(path: Path) -> None:
    expected = generated_files()[path]
    assert path.is_file() and path.read_text() == expected, (
        f"{path} is stale: regenerate it with `{REGENERATE}` and commit it"
    )


def test_schema_has_every_section_and_no_defaults(repo_root: Path) -> None:
    schema = yaml.safe_load((repo_root / "workflow/schemas/config.schema.yaml").read_text())
    assert set(schema["required"]) == set(BridgeConfig.model_fields)
    assert schema["additionalProperties"] is False

    def keywords(node: object) -> set[str]:
        if isinstance(node, list):
            return set().union(*map(keywords, node)) if node else set()
        if not isinstance(node, dict):
            return set()
        found = set(node) - {"properties", "$defs"}
        for key, value in node.items():
            children = value.values() if key in ("properties", "$defs") else [value]
            found |= set().union(*map(keywords, children)) if children else set()
        return found

    # Snakemake's validate would fill a default into the config (and so the rules' params).
    assert "default" not in keywords(schema)


def test_readme_lists_every_leaf_key(repo_root: Path) -> None:
    config = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    readme = (repo_root / "config" / "README.md").read_text()

    def leaves(node: dict, prefix: str = "") -> list[str]:
        out = []
        for key, value in node.items():
            path = f"{prefix}{key}"
            nested = isinstance(value, dict) and key != "paper_scenarios"
            out += leaves(value, f"{path}.") if nested else [path]
        return out

    missing = [key for key in leaves(config) if f"`{key}`" not in readme]
    assert not missing
