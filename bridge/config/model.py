"""The whole workflow config: one model whose fields are the section models."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from bridge.config.autoencoder import AutoencoderConfig
from bridge.config.base import Section, Str, field, relation_error
from bridge.config.compare import CompareConfig, cross_section_problems
from bridge.config.hh import HHConfig
from bridge.config.mapping import MappingConfig
from bridge.config.regressor import RegressorConfig


class BridgeConfig(Section):
    """Configuration of the HH-to-SNN bridge workflow (config/config.yaml, config/quick.yaml)."""

    conditions: Str = field("path of the conditions table (TSV; relative to the working folder)")
    hh: HHConfig
    mapping: MappingConfig
    regressor: RegressorConfig
    autoencoder: AutoencoderConfig
    compare: CompareConfig

    @model_validator(mode="after")
    def _sections_agree(self) -> Self:
        problems = cross_section_problems(
            self.autoencoder.noise.sigmas,
            self.compare.noisy_sigma,
            list(self.autoencoder.paper_scenarios),
            {"compare.claims.overfiring_scenario": self.compare.claims.overfiring_scenario},
        )
        if problems:
            raise relation_error(*problems[0])
        return self
