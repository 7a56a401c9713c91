"""Typed reads of single config keys, each failing with a message that names the key.

The schema (workflow/schemas/config.schema.yaml) checks types and ranges when a config file
is loaded; the stages' typed settings (``bridge.mapping.settings``,
``bridge.regressor.settings``) re-read their sections through these helpers so a library
caller without the schema gets the same clear errors, raised as the stage's own error class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConfigFields:
    """Readers for one config section family; ``error`` is the exception class raised."""

    error: type[ValueError]

    def get(self, section: Mapping[str, Any], key: str, where: str) -> Any:
        """``section[key]``; ``where`` is the section's dotted path, for the message."""
        if not isinstance(section, Mapping):
            raise self.error(f"config key '{where}': expected a mapping, got {section!r}")
        if key not in section:
            raise self.error(f"config key '{where}.{key}' is missing")
        return section[key]

    def number(
        self,
        section: Mapping[str, Any],
        key: str,
        where: str,
        *,
        positive: bool = False,
        minimum: float | None = None,
    ) -> float:
        """A finite number; ``positive``: > 0; ``minimum``: >= minimum."""
        value = self.get(section, key, where)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise self.error(f"config key '{where}.{key}': {value!r} is not a finite number")
        if positive and value <= 0:
            raise self.error(f"config key '{where}.{key}': {value!r} must be > 0")
        if minimum is not None and value < minimum:
            raise self.error(f"config key '{where}.{key}': {value!r} must be >= {minimum}")
        return float(value)

    def count(self, section: Mapping[str, Any], key: str, where: str, minimum: int) -> int:
        """An integer >= ``minimum`` (booleans refused)."""
        value = self.get(section, key, where)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(
                f"config key '{where}.{key}': {value!r} must be an integer >= {minimum}"
            )
        return value

    def choice(
        self, section: Mapping[str, Any], key: str, where: str, options: tuple[str, ...]
    ) -> str:
        """One of ``options``."""
        value = self.get(section, key, where)
        if value not in options:
            raise self.error(f"config key '{where}.{key}': {value!r} is not one of {options}")
        return str(value)
