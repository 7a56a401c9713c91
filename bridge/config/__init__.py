"""The workflow config: typed section models (one source of truth) and the loaders.

``bridge.config.base`` holds the strict base model, the section modules (``hh``,
``mapping``, ``regressor``, ``autoencoder``, ``compare``) one model per config section, and
``bridge.config.loading`` reads config files and the conditions table.
"""

from bridge.config.base import ConfigError
from bridge.config.loading import (
    Condition,
    condition_by_name,
    deep_merge,
    load_conditions,
    load_config,
    validate_config,
)
from bridge.config.mapping import MappingConfig

__all__ = [
    "Condition",
    "ConfigError",
    "MappingConfig",
    "condition_by_name",
    "deep_merge",
    "load_conditions",
    "load_config",
    "validate_config",
]
