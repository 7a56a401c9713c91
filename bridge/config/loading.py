"""Load and validate the workflow config and the conditions table.

The config is checked against the typed models of :mod:`bridge.config` (Snakemake's
``validate`` uses the JSON schema generated from them); the conditions table against
``workflow/schemas/conditions.schema.yaml``. Errors name the file, the line/row and the
column, or the config key's dotted path.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pydantic import ValidationError

from bridge import SCHEMA_DIR
from bridge.config.base import ConfigError, config_error
from bridge.config.model import BridgeConfig
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL

CONDITIONS_SCHEMA = SCHEMA_DIR / "conditions.schema.yaml"

#: Condition names other stages write results under (casefolded), with the reason.
RESERVED_CONDITION_NAMES: dict[str, str] = {
    REGRESSOR_REFERENCE_LABEL.casefold(): (
        "the regressor stage writes its trained arms under "
        f"results/regressor/{REGRESSOR_REFERENCE_LABEL}/"
    ),
}


#: Columns that document a row (provenance of a literature variant) and change nothing in
#: the model; they travel into the outputs with the condition.
DESCRIPTIVE_COLUMNS = (
    "description",
    "gene",
    "variant",
    "measured_changes",
    "recording_cell",
    "recording_temperature",
    "source",
    "doi",
    "source_checked",
)


#: Na-channel columns and the values at which hhx's sodium channel is hh's.
NA_CHANNEL_DEFAULTS: dict[str, float] = {
    "m_shift_mV": 0.0,
    "h_shift_mV": 0.0,
    "nap_fraction": 0.0,
    "m_slope_factor": 1.0,
    "h_slope_factor": 1.0,
    "m_tau_factor": 1.0,
    "h_tau_factor": 1.0,
}
#: Every column the built-in hh cannot express away from its default value.
HHX_ONLY_DEFAULTS: dict[str, float] = {**NA_CHANNEL_DEFAULTS, "n_shift_mV": 0.0}


def differs_from(obj: Any, defaults: Mapping[str, float]) -> bool:
    """True when any field named in ``defaults`` is not at its default value on ``obj``."""
    return any(getattr(obj, name) != value for name, value in defaults.items())


@dataclass(frozen=True)
class Condition:
    """One channelopathy condition (one row of conditions.tsv). Conductances in S/cm2."""

    name: str
    gnabar: float
    gkbar: float
    gl: float
    m_shift_mV: float = 0.0
    h_shift_mV: float = 0.0
    nap_fraction: float = 0.0
    m_slope_factor: float = 1.0
    h_slope_factor: float = 1.0
    m_tau_factor: float = 1.0
    h_tau_factor: float = 1.0
    n_shift_mV: float = 0.0
    #: None: the Na columns apply to all of gnabar; f: gnabar*(1-f) wild type, gnabar*f mutant
    mutant_fraction: float | None = None
    celsius: float | None = None
    v_rest_mV: float | None = None
    description: str = ""
    # Descriptive columns (DESCRIPTIVE_COLUMNS): where a row comes from; the model ignores them.
    gene: str = ""
    variant: str = ""
    measured_changes: str = ""
    recording_cell: str = ""
    recording_temperature: str = ""
    source: str = ""
    doi: str = ""
    source_checked: str = ""

    @property
    def needs_custom_mechanism(self) -> bool:
        """True when the built-in ``hh`` cannot express this condition."""
        return differs_from(self, HHX_ONLY_DEFAULTS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge ``override`` into a copy of ``base`` (as Snakemake's --configfile)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_config(config: Mapping[str, Any], source: str = "") -> BridgeConfig:
    """The typed config; raise ConfigError naming each bad, unknown or missing key by its
    dotted path (``source``: the file(s) it came from, for the message)."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"invalid configuration ({source}): expected a mapping of sections")
    try:
        return BridgeConfig.model_validate(config)
    except ValidationError as error:
        raise config_error(error, source=source) from None


def load_config(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Load YAML files in order, each merged on top of the previous one, and validate."""
    config: dict[str, Any] = {}
    names = []
    for path in paths:
        with open(path) as fh:
            config = deep_merge(config, yaml.safe_load(fh) or {})
        names.append(str(path))
    validate_config(config, source=" + ".join(names))
    return config


def _parse_cell(text: str) -> Any:
    """Turn a TSV cell into a number when it looks like one, else keep the text."""
    try:
        return float(text)
    except ValueError:
        return text


def _read_table_lines(path: Path) -> list[str]:
    """The table's lines as text: UTF-8 with or without a byte-order mark (spreadsheet
    programs write one), LF or CRLF line ends; a byte that is not UTF-8 is reported with
    its line and column."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        bad = data[error.start : error.end]
        raise ConfigError(
            f"{path}: line {line}, byte {column}: not UTF-8 text (byte(s) {bad!r}); "
            "save the table as UTF-8"
        ) from None
    # Split on newlines only (str.splitlines also splits on form feeds and other separators,
    # which would shift the line numbers in messages); a CRLF's '\r' is dropped here.
    lines = text.split("\n")
    return [line.removesuffix("\r") for line in lines]


def _row_error(path: Path, line: int, name: str | None, column: str, message: str) -> ConfigError:
    who = f" (condition '{name}')" if name else ""
    return ConfigError(f"{path}: line {line}{who}, column '{column}': {message}")


def load_conditions(path: str | Path) -> list[Condition]:
    """Read and validate a conditions TSV; every problem names file, line and column.

    Line numbers count the header as line 1, as an editor shows them.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: conditions table not found")
    schema = yaml.safe_load(CONDITIONS_SCHEMA.read_text())
    allowed = set(schema["properties"])
    numeric = {c for c, rule in schema["properties"].items() if rule.get("type") == "number"}
    required = list(schema["required"])
    text_lines = _read_table_lines(path)
    rows = [(i + 1, line) for i, line in enumerate(text_lines) if line.strip()]
    if not rows:
        raise ConfigError(f"{path}: empty file, expected a header line with columns {required}")
    header_line, header_text = rows[0]
    header = [h.strip() for h in header_text.split("\t")]
    unknown = [h for h in header if h not in allowed]
    if unknown:
        raise ConfigError(
            f"{path}: line {header_line}: unknown column(s) {unknown}; allowed: {sorted(allowed)}"
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(f"{path}: line {header_line}: missing required column(s) {missing}")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise ConfigError(f"{path}: line {header_line}: duplicated column(s) {duplicated}")

    validator = jsonschema.Draft202012Validator(schema)
    conditions: list[Condition] = []
    seen: dict[str, tuple[int, str]] = {}  # casefolded name -> (line, name)
    for line_no, line in rows[1:]:
        cells = line.split("\t")
        if len(cells) > len(header):
            raise ConfigError(
                f"{path}: line {line_no}: {len(cells)} cells but the header has {len(header)}"
            )
        cells += [""] * (len(header) - len(cells))
        record: dict[str, Any] = {}
        for column, cell in zip(header, cells, strict=True):
            cell = cell.strip()
            if cell == "":
                continue
            record[column] = _parse_cell(cell) if column in numeric else cell
        name = record.get("name") if isinstance(record.get("name"), str) else None
        for column, value in record.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise _row_error(path, line_no, name, column, f"{value!r} is not a finite number")
        errors = sorted(validator.iter_errors(record), key=lambda e: str(e.path))
        if errors:
            err = errors[0]
            if err.validator == "required":
                column = re.findall(r"'([^']+)'", err.message)[0]
                raise _row_error(path, line_no, name, column, "required value is empty")
            column = str(err.path[0]) if err.path else "?"
            value = record.get(column)
            if err.validator == "type" and column in numeric:
                message = f"{value!r} is not a number"
            elif err.validator == "pattern" and column == "doi":
                message = f"{value!r} is not a DOI (10.<registrant>/<suffix>, without https://)"
            elif err.validator == "pattern":
                message = (
                    f"{value!r} is not a path-safe name (letters, digits, '_' or '-', "
                    "starting with a letter, at most 64 characters)"
                )
            else:
                message = err.message
            raise _row_error(path, line_no, name, column, message)
        assert name is not None  # guaranteed by the schema's "required"
        # Names become folder names: on a case-insensitive filesystem (macOS, Windows)
        # 'control' and 'Control' would write into the same folder, so compare casefolded.
        key = name.casefold()
        if key in seen:
            first_line, first_name = seen[key]
            raise _row_error(
                path,
                line_no,
                name,
                "name",
                f"duplicate name, first used on line {first_line} as '{first_name}' "
                "(names are compared case-insensitively)",
            )
        if key in RESERVED_CONDITION_NAMES:
            raise _row_error(
                path,
                line_no,
                name,
                "name",
                f"'{name}' is reserved: {RESERVED_CONDITION_NAMES[key]}",
            )
        seen[key] = (line_no, name)
        conditions.append(Condition(**record))
    if not conditions:
        raise ConfigError(f"{path}: no condition rows below the header")
    return conditions


def condition_by_name(conditions: Iterable[Condition], name: str) -> Condition:
    for condition in conditions:
        if condition.name == name:
            return condition
    raise KeyError(f"no condition named {name!r}")
