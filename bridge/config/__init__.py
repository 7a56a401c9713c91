"""The workflow config: typed section models (the one source of truth) and the loaders.

One module per config section (``hh``, ``mapping``, ``regressor``, ``autoencoder``,
``compare``), :class:`BridgeConfig` for the whole file (``model``), the strict base model
(``base``), the loaders of config files and the conditions table (``loading``), and the
generator of ``workflow/schemas/config.schema.yaml`` and ``config/README.md``
(``python -m bridge.config``, see ``generate``).
"""

from bridge.config.autoencoder import AutoencoderConfig
from bridge.config.base import ConfigError
from bridge.config.compare import CompareConfig
from bridge.config.hh import HHConfig
from bridge.config.loading import (
    Condition,
    condition_by_name,
    deep_merge,
    load_conditions,
    load_config,
    validate_config,
)
from bridge.config.mapping import MappingConfig
from bridge.config.model import BridgeConfig
from bridge.config.regressor import RegressorConfig

__all__ = [
    "AutoencoderConfig",
    "BridgeConfig",
    "CompareConfig",
    "Condition",
    "ConfigError",
    "HHConfig",
    "MappingConfig",
    "RegressorConfig",
    "condition_by_name",
    "deep_merge",
    "load_conditions",
    "load_config",
    "validate_config",
]
