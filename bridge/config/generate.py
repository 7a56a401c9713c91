"""Generate the JSON schema Snakemake validates and the key reference, from the models.

``python -m bridge.config`` rewrites ``workflow/schemas/config.schema.yaml`` and
``config/README.md``; ``python -m bridge.config --check`` exits 1 when either is stale.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bridge import REPO_ROOT, SCHEMA_DIR
from bridge.config.model import BridgeConfig

SCHEMA_PATH = SCHEMA_DIR / "config.schema.yaml"
README_PATH = REPO_ROOT / "config" / "README.md"
FULL_CONFIG = REPO_ROOT / "config" / "config.yaml"
REGENERATE = "python -m bridge.config"
#: Schema keywords left out: titles repeat the key; a default would be filled into the
#: config by Snakemake's validate (every key of config.yaml is required instead).
_DROPPED = ("title", "default")


def _clean(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "$defs"):
            out[key] = {name: _clean(sub) for name, sub in value.items()}
        elif key not in _DROPPED:
            out[key] = _clean(value)
    return out


def config_json_schema() -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of the whole config, generated from BridgeConfig."""
    schema = _clean(BridgeConfig.model_json_schema())
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def config_schema_yaml() -> str:
    header = (
        f"# Generated from the models in bridge/config/ by `{REGENERATE}`; do not edit.\n"
        "# Snakemake's validate() checks the config against it after bridge.config has.\n"
    )
    return header + yaml.safe_dump(config_json_schema(), sort_keys=False, width=100)


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    if "$ref" in node:
        return defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _entry_schema(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema of each entry of a mapping keyed by name (``patternProperties``)."""
    for entry in node.get("patternProperties", {}).values():
        return entry
    entry = node.get("additionalProperties")
    return entry if isinstance(entry, Mapping) else None


def _bounds(node: Mapping[str, Any]) -> str:
    signs = {
        "exclusiveMinimum": "> {}",
        "minimum": ">= {}",
        "exclusiveMaximum": "< {}",
        "maximum": "<= {}",
        "multipleOf": "multiple of {}",
        "pattern": "matching `{}`",
    }
    return ", ".join(text.format(node[key]) for key, text in signs.items() if key in node)


def _type_text(node: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    node = _resolve(node, defs)
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "anyOf" in node:
        kinds = [_type_text(n, defs) for n in node["anyOf"] if n.get("type") != "null"]
        return " or ".join(kinds) + " (optional)"
    kind = node.get("type")
    if kind == "array":
        if "prefixItems" in node:
            inner = ", ".join(_type_text(n, defs) for n in node["prefixItems"])
            return f"[{inner}]"
        inner = _type_text(node.get("items", {}), defs)
        extra = ", distinct" if node.get("uniqueItems") else ""
        if node.get("minItems"):
            extra += f", at least {node['minItems']}"
        return f"list of ({inner}){extra}"
    if kind == "object" and "properties" not in node:
        entry = _entry_schema(node)
        return "mapping name -> " + ("entry" if entry is None else _type_text(entry, defs))
    bounds = _bounds(node)
    return f"{kind}{' ' + bounds if bounds else ''}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _meaning(field: Mapping[str, Any], target: Mapping[str, Any]) -> str:
    """The field's description, else (a section) its model docstring's first paragraph."""
    text = field.get("description") or target.get("description", "")
    return _cell(" ".join(text.split("\n\n")[0].split()).replace("``", "`"))


def _rows(node: Mapping[str, Any], defs: Mapping[str, Any], prefix: str, values: Any) -> list[str]:
    rows = []
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        target = _resolve(sub, defs)
        value = values.get(name) if isinstance(values, Mapping) else None
        description = _meaning(sub, target)
        entry = _entry_schema(target) if target.get("type") == "object" else None
        entry = None if entry is None else _resolve(entry, defs)
        if "properties" in target:
            rows.append(f"| **`{path}`** | section | | {description} |")
            rows += _rows(target, defs, f"{path}.", value)
        elif entry is not None and "properties" in entry:
            # A mapping keyed by name (e.g. the paper scenarios): one row per entry field.
            rows.append(f"| **`{path}`** | mapping name -> section | | {description} |")
            rows += _rows(entry, defs, f"{path}.<name>.", None)
        else:
            shown = f"`{json.dumps(value)}`" if value is not None else ""
            rows.append(
                f"| `{path}` | {_cell(_type_text(target, defs))} | {shown} | {description} |"
            )
    return rows


INTRO = """\
# Configuration

Generated from the models in `bridge/config/` by `{regenerate}`; do not edit by hand
(`tests/test_config_generated.py` fails when this file or `workflow/schemas/config.schema.yaml`
is stale).

- `config/config.yaml` is the full protocol and sets every key below (all are required).
- `config/quick.yaml` overrides a few keys for a minutes-long run:
  `snakemake --configfile config/quick.yaml` merges it on top of `config.yaml`; so does any
  other file given with `--configfile`, and `--config key=value` on the command line.
- `config/conditions.tsv` (the key `conditions`) lists the channelopathy conditions, one row
  each (columns in `workflow/schemas/conditions.schema.yaml`).

Every file is checked before any job runs: an unknown key at any level, a missing key or
section, a value of the wrong type or out of range, and inconsistent keys (for example
`regressor.training.washout_steps` not below `window_steps`) stop the workflow with a message
naming the key's dotted path. Units are in each key's name or description.

| key | type | config.yaml | meaning |
|---|---|---|---|
"""


def config_reference_markdown() -> str:
    """The table of every config key (dotted path, type, value in config.yaml, meaning)."""
    schema = BridgeConfig.model_json_schema()
    values = yaml.safe_load(FULL_CONFIG.read_text())
    rows = _rows(schema, schema.get("$defs", {}), "", values)
    return INTRO.format(regenerate=REGENERATE) + "\n".join(rows) + "\n"


def generated_files() -> dict[Path, str]:
    """Each generated file and the text it should hold."""
    return {SCHEMA_PATH: config_schema_yaml(), README_PATH: config_reference_markdown()}


def stale_files() -> list[Path]:
    return [p for p, text in generated_files().items() if not p.is_file() or p.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(REPO_ROOT)} (regenerate: {REGENERATE})")
        return 1 if stale else 0
    for path, text in generated_files().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0
