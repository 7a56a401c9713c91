"""The ``hh:`` section: the Hodgkin-Huxley cells simulated in NEURON (and Brian2)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from annotated_types import Gt, Le
from pydantic import Field, model_validator

from bridge.config.base import (
    Float,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    field,
)

#: An integration step in ms: positive and at most 0.1 ms (HH spikes last about 1 ms).
StepMs = Annotated[Float, Gt(0), Le(0.1)]
#: One amplitude segment [start, stop, spacing] in uA/cm2; stop is inclusive.
AmpSegment = tuple[Float, Float, PositiveFloat]


class StepsConfig(Section):
    """Current-step protocol of the f-I curve."""

    delay_ms: NonNegativeFloat = field("time before the step, ms")
    duration_ms: PositiveFloat = field("step duration, ms")
    after_ms: NonNegativeFloat = field("time recorded after the step, ms")
    amp_segments_uA_cm2: Annotated[tuple[AmpSegment, ...], Field(min_length=1)] = field(
        "amplitude grid, uA/cm2: segments [start, stop, spacing], stop inclusive"
    )
    store_dt_ms: PositiveFloat = field(
        "interval of the stored traces, ms (features use the full-resolution trace)"
    )


class SpontaneousConfig(Section):
    """Run without input that measures the resting state and spontaneous rate."""

    duration_ms: PositiveFloat = field("recorded duration, ms")
    settle_ms: NonNegativeFloat = field("settling time before recording, ms")


class NoiseConfig(Section):
    """Ornstein-Uhlenbeck current for the spike-train statistics."""

    duration_ms: PositiveFloat = field("duration of the noisy run, ms")
    mean_uA_cm2: Float = field("mean current, uA/cm2")
    sigma_uA_cm2: NonNegativeFloat = field("standard deviation of the current, uA/cm2")
    tau_ms: PositiveFloat = field("correlation time of the current, ms")
    seed: NonNegativeInt = field("random seed of the noise")


#: One noise level of the validation runs: [mean, standard deviation] in uA/cm2.
NoiseLevel = tuple[Float, NonNegativeFloat]


class ValidationConfig(Section):
    """Noisy-current segments on which the mapped models' spike timing is judged.

    Every level runs ``fit_segments`` segments drawn from ``fit_seed`` and
    ``heldout_segments`` from ``heldout_seed``; a segment's current depends only on its own
    seed, level and index, so a new held-out seed leaves the fit segments bit-identical.
    """

    levels_uA_cm2: Annotated[tuple[NoiseLevel, ...], Field(min_length=1)] = field(
        "OU current levels [mean, standard deviation], uA/cm2, spanning silent to repetitive firing"
    )
    tau_ms: PositiveFloat = field("correlation time of the OU current, ms")
    segment_ms: PositiveFloat = field("length of one segment, ms (each starts at rest)")
    warmup_ms: NonNegativeFloat = field(
        "start of every segment left out of the scores (both models leave their rest), ms"
    )
    fit_segments: NonNegativeInt = field("segments per level a fit may use (count)")
    heldout_segments: PositiveInt = field("segments per level only the judgement sees (count)")
    fit_seed: NonNegativeInt = field("random seed of the fit segments")
    heldout_seed: NonNegativeInt = field("random seed of the held-out segments (differs)")
    transient_windows_ms: Annotated[tuple[PositiveFloat, ...], Field(min_length=1)] = field(
        "windows after a step from rest in which spikes are counted, ms (the autoencoder "
        "runs 5 steps of 1 ms)"
    )

    @model_validator(mode="after")
    def _seeds_differ(self) -> Self:
        if self.fit_seed == self.heldout_seed:
            raise ValueError("fit_seed and heldout_seed must differ (held-out data stay unseen)")
        if self.warmup_ms >= self.segment_ms:
            raise ValueError("warmup_ms must be shorter than segment_ms")
        return self


class BlockConfig(Section):
    """Depolarisation-block detection at the end of each step."""

    window_ms: PositiveFloat = field("last part of the step inspected, ms")
    min_spikes: PositiveInt = field("fewer spikes than this in the window can mean block (count)")
    v_mean_above_mV: Float = field("mean voltage above this in the window means block, mV")


class RebalanceConfig(Section):
    """Leak rebalancing that holds a condition's resting potential at v_rest_mV."""

    perturbation_mV: PositiveFloat = field("voltage perturbation of the stability check, mV")
    settle_ms: PositiveFloat = field("settling time, ms")
    tolerance_mV: PositiveFloat = field("accepted distance from the target rest, mV")


class Brian2Config(Section):
    """Brian2 twin of the NEURON cell (cross-check of the f-I curve)."""

    dt_ms: StepMs = field(
        "Brian2 integration step, ms (exponential Euler is less accurate per step than "
        "NEURON's staggered scheme; 0.01 ms agrees within one spike per 800 ms)"
    )
    codegen_target: Literal["cython", "numpy"] = field(
        "code generation: cython (cached in build/brian2_cython/; falls back to numpy with a "
        "warning) or numpy"
    )
    rate_tolerance_hz: PositiveFloat = field(
        "per-sweep step-window rates of NEURON and Brian2 must agree within this, Hz"
    )
    onset_jump_hz: PositiveFloat = field(
        "a rate jump larger than this between adjacent amplitudes must instead sit within "
        "one amplitude step, Hz"
    )


class HHConfig(Section):
    """The ``hh:`` section: single-compartment HH cells, one per condition."""

    area_um2: PositiveFloat = field("membrane area, um2 (100 um2: 1 nA equals 1 mA/cm2)")
    cm_uF_cm2: PositiveFloat = field("specific membrane capacitance, uF/cm2")
    celsius: Float = field("temperature, degrees C (a condition row may override)")
    dt_ms: StepMs = field("NEURON integration step, ms (at most 0.1)")
    spike_threshold_mV: Float = field(
        "spike detection threshold shared by NEURON (NetCon), Brian2 and eFEL, mV"
    )
    spike_min_ionic_dvdt_mV_ms: Float = field(
        "a trace's threshold crossings count as spikes from its first one whose upstroke is "
        "regenerative: dV/dt - I_inj/C_m (the membrane's own rate, -I_ionic/C_m) exceeds "
        "this within 0.5 ms after the crossing, mV/ms (hh_models.spikes)"
    )
    steps: StepsConfig
    spontaneous: SpontaneousConfig
    noise: NoiseConfig
    validation: ValidationConfig
    block: BlockConfig
    rebalance: RebalanceConfig
    brian2: Brian2Config
