"""The whole workflow config: one model whose fields are the section models."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from bridge.config.autoencoder import AutoencoderConfig
from bridge.config.base import Section, Str, relation_error
from bridge.config.compare import CompareConfig
from bridge.config.hh import HHConfig
from bridge.config.mapping import MappingConfig
from bridge.config.regressor import RegressorConfig


class BridgeConfig(Section):
    """Configuration of the HH-to-SNN bridge workflow (config/config.yaml, config/quick.yaml)."""

    conditions: Str = Field(
        description="path of the conditions table (TSV; relative to the working folder)"
    )
    hh: HHConfig
    mapping: MappingConfig
    regressor: RegressorConfig
    autoencoder: AutoencoderConfig
    compare: CompareConfig

    @model_validator(mode="after")
    def _sections_agree(self) -> Self:
        sigmas = self.autoencoder.noise.sigmas
        if 0.0 not in sigmas:
            raise relation_error(
                "autoencoder.noise.sigmas",
                f"{list(sigmas)} lacks 0: the compare stage needs the noiseless runs",
            )
        if self.compare.noisy_sigma not in sigmas:
            raise relation_error(
                "compare.noisy_sigma",
                f"{self.compare.noisy_sigma} is not one of autoencoder.noise.sigmas {list(sigmas)}",
            )
        overfiring = self.compare.claims.overfiring_scenario
        if overfiring not in self.autoencoder.paper_scenarios:
            raise relation_error(
                "compare.claims.overfiring_scenario",
                f"{overfiring!r} is not one of autoencoder.paper_scenarios "
                f"{list(self.autoencoder.paper_scenarios)}",
            )
        return self
