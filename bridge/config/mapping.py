"""The ``mapping:`` section: fitting LIF and MTC parameters to each HH cell's f-I curve."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from annotated_types import Ge, Gt, Lt
from pydantic import AfterValidator, Field

from bridge.config.base import (
    BelowMinusOneBounds,
    Bool,
    Float,
    Int,
    Name,
    NonNegativeFloat,
    NonNegativeInt,
    OpenUnitFloat,
    PositiveBounds,
    PositiveFloat,
    PositiveInt,
    Section,
    field,
)

#: Regime presets of the MTC circuit (bridge.neurons.mtc MTC_PRESETS).
MtcPreset = Literal["tonic", "phasic", "bursting"]
#: Gains a condition's MTC fit may free (a_fast always; a_slow_pos optionally).
MtcGain = Literal["a_fast", "a_slow_pos"]
MTC_CONDITION_GAINS: tuple[MtcGain, ...] = get_args(MtcGain)

#: A ratio threshold on an interval's hi/lo: below 1 it would flag every interval.
AboveOne = Annotated[Float, Gt(1)]


class ObjectiveWeights(Section):
    """Per-point weights of the f-I objective's residual groups (dimensionless)."""

    rate: NonNegativeFloat = field("weight of each firing-rate residual (dimensionless)")
    latency: NonNegativeFloat = field("weight of each first-spike latency residual")
    spontaneous: NonNegativeFloat = field(
        "weight of the spontaneous-rate residual (one number that sets the resting drive, "
        "so it may count as several amplitudes)"
    )


class ObjectiveConfig(Section):
    """Scales and weights of the f-I objective shared by the LIF and MTC fits.

    Residuals are divided by their scale before squaring: rates by ``rate_scale_hz``,
    latencies by ``latency_scale_ms + latency_rel_scale * latency_hh_ms``.
    """

    rate_scale_hz: PositiveFloat = field("rate residual scale in Hz")
    latency_scale_ms: PositiveFloat = field("absolute part of the latency residual scale, ms")
    latency_rel_scale: NonNegativeFloat = field(
        "relative part of the latency residual scale (fraction of the HH latency)"
    )
    latency_min_spikes: PositiveInt = field(
        "latencies enter only where the HH sweep fires at least this many spikes and the "
        "cell is silent at rest (count)"
    )
    weights: ObjectiveWeights


class NelderMeadConfig(Section):
    """Nelder-Mead polish of the LIF fit's best starts."""

    max_iter: PositiveInt = field("iterations per Nelder-Mead start (count)")
    xatol: PositiveFloat = field("absolute tolerance on the fitted coordinates")
    fatol: PositiveFloat = field("absolute tolerance on the objective (dimensionless)")


class ProfileIntervalConfig(Section):
    """Where a profile's accepted interval ends (bridge.mapping.search, both fits)."""

    edge_bisections: NonNegativeInt = field("bisections locating each interval edge (count)")
    delta: PositiveFloat = field(
        "objective rise that bounds the accepted interval (3.84: chi-square(1 dof) 95 % quantile)"
    )


class LifProfileConfig(ProfileIntervalConfig):
    """Profile likelihood over tau that decides whether beta is identified."""

    points: Annotated[Int, Ge(5)] = field(
        "log-spaced tau values across tau_bounds_ms (count, >= 5)"
    )
    inner_points: Annotated[Int, Ge(5)] = field(
        "grid points per coordinate in each zoom round (count, >= 5)"
    )
    zoom_rounds: PositiveInt = field("zoom rounds of the inner grid search (count)")
    max_tau_ratio: AboveOne = field(
        "tau interval hi/lo above this ratio: status beta_unidentified (dimensionless, > 1)"
    )


class LifFitConfig(Section):
    """Bounds, starts and profile of the LIF fit."""

    tau_bounds_ms: PositiveBounds = field(
        "[low, high] search bounds of the membrane time constant tau = -dt/ln(beta), ms"
    )
    w_bounds_per_nA: PositiveBounds = field("[low, high] search bounds of the input gain w, per nA")
    rheobase_margin: PositiveFloat = field(
        "rheobase search range: tested amplitudes widened by this multiple of their span "
        "on each side (dimensionless)"
    )
    start_grid_points: Annotated[Int, Ge(3)] = field(
        "coarse grid points per coordinate (w, rheobase) (count, >= 3)"
    )
    n_starts: PositiveInt = field("Nelder-Mead starts from the best grid points (count)")
    nelder_mead: NelderMeadConfig
    profile: LifProfileConfig


class MtcGridConfig(Section):
    """Start and profile grids of the MTC fit."""

    a_fast_points: Annotated[Int, Ge(3)] = field(
        "profile grid over a_fast, every condition (count, >= 3)"
    )
    a_slow_pos_points: Annotated[Int, Ge(2)] = field(
        "reference start grid over a_slow_pos, and conditions' when it is free (count, >= 2)"
    )
    input_scale_points: Annotated[Int, Ge(2)] = field(
        "reference start grid over the input scale, log-spaced (count, >= 2)"
    )
    onset_points: Annotated[Int, Ge(2)] = field(
        "linear onset grid, plus the onsets the HH data point at (count, >= 2)"
    )


class MtcResolutionConfig(Section):
    """Pattern-search step sizes at which the search stops (steps halve down to these)."""

    a_fast: PositiveFloat = field("a_fast resolution (model units)")
    a_slow_pos: PositiveFloat = field("a_slow_pos resolution (model units)")
    ln_input_scale: PositiveFloat = field("resolution of ln(input scale) (0.005 = 0.5 %)")
    onset_spacings: PositiveFloat = field("onset resolution in amplitude-grid spacings")


class MtcSearchConfig(Section):
    """Pattern searches from the best grid points."""

    n_starts: PositiveInt = field("pattern searches from the best grid points (count)")
    resolution: MtcResolutionConfig
    max_iter: PositiveInt = field("iterations per pattern search (count)")


class MtcProfileConfig(ProfileIntervalConfig):
    """Profile over a_fast that decides whether the fast gain is identified."""

    max_gain_ratio: AboveOne = field(
        "|a_fast| interval hi/lo above this ratio: status a_fast_unidentified (> 1)"
    )


def _canonical_gains(gains: tuple[str, ...]) -> tuple[str, ...]:
    if "a_fast" not in gains or len(set(gains)) != len(gains):
        raise ValueError(
            f"{list(gains)} must list a_fast and optionally a_slow_pos "
            f"(allowed: {list(MTC_CONDITION_GAINS)}), each once"
        )
    return tuple(g for g in MTC_CONDITION_GAINS if g in gains)


class MtcFitConfig(Section):
    """Bounds, grids, search and profile of the MTC fit (gains in model units)."""

    preset: MtcPreset = field("base circuit whose fields the fits leave alone (MTC preset)")
    dt: PositiveFloat = field(
        "Euler step in MTC model time units; dt * mapping.mtc_time_unit_ms ms per step"
    )
    condition_gains: Annotated[tuple[MtcGain, ...], AfterValidator(_canonical_gains)] = field(
        "gains each condition re-fits: [a_fast] or [a_fast, a_slow_pos] (kept in that order)"
    )
    a_fast_bounds: BelowMinusOneBounds = field(
        "[low, high] search bounds of the fast (Na-like) gain, both < -1 (model units)"
    )
    a_slow_pos_bounds: PositiveBounds = field(
        "[low, high] search bounds of the slow (K-like) gain (model units)"
    )
    input_scale_bounds_per_nA: PositiveBounds = field(
        "[low, high] search bounds of the input scale, model current per nA"
    )
    onset_margin: PositiveFloat = field(
        "onset search range: tested amplitudes widened by this multiple of their span on "
        "each side (dimensionless)"
    )
    onset_margin_model: PositiveFloat = field(
        "condition fits widen the onset range by at least this much model current "
        "(divided by the input scale)"
    )
    grid: MtcGridConfig
    search: MtcSearchConfig
    profile: MtcProfileConfig


class TimingFitConfig(Section):
    """Grid of the timing-optimised LIF: the best the model class does on the fit segments.

    Log-spaced tau and w, linear resting drive b / (1 - beta) (threshold units).
    """

    tau_bounds_ms: PositiveBounds = field("membrane time constant range, ms")
    tau_points: Annotated[Int, Ge(2)] = field("grid points of tau (count)")
    w_bounds_per_nA: PositiveBounds = field("input gain range, threshold units per nA per step")
    w_points: Annotated[Int, Ge(2)] = field("grid points of w (count)")
    drive_bounds: tuple[NonNegativeFloat, PositiveFloat] = field(
        "resting drive b / (1 - beta) range, threshold units (1: at threshold)"
    )
    drive_points: Annotated[Int, Ge(2)] = field("grid points of the resting drive (count)")


class ValidationScoreConfig(Section):
    """How the mapped models are judged on the HH stage's held-out segments and transient.

    Coincidence factor (Kistler et al. 1997; Jolivet et al. 2008), no intrinsic-reliability
    normalisation (the HH cell is deterministic): bridge.mapping.validation.
    """

    windows_ms: Annotated[tuple[PositiveFloat, ...], Field(min_length=1)] = field(
        "coincidence windows +-Delta of the coincidence factor, ms"
    )
    hit_window_ms: PositiveFloat = field(
        "an HH spike is hit when a model spike lies within +- this; also the window of the "
        "timing floor and of the mean timing offset, ms"
    )
    max_chance_coincidence: Annotated[Float, Gt(0), Lt(1)] = field(
        "the coincidence factor is not evaluable where 2 * model rate * Delta (the chance "
        "coincidence fraction) exceeds this (dimensionless)"
    )
    gamma_floor: Float = field(
        "timing_below_floor when the held-out coincidence factor at hit_window_ms, averaged "
        "over evaluable levels, is below this (dimensionless)"
    )
    transient_max_count_mae: NonNegativeFloat = field(
        "transient_mismatch when the mean absolute spike-count error over step amplitudes "
        "in the shortest transient window exceeds this (spikes)"
    )
    fine_dt_ms: PositiveFloat = field(
        "second LIF time step reported beside mapping.dt_ms (discretisation vs model class), ms"
    )
    model_settle_ms: NonNegativeFloat = field(
        "time the mapped models run at zero input before a segment or step, ms (their rest)"
    )
    timing_fit: TimingFitConfig


class GoodnessOfFitConfig(Section):
    """When a fit is too poor to use (status poor_fit, bridge.mapping.search)."""

    max_objective_per_point: PositiveFloat = field(
        "poor_fit when the objective divided by the number of fitted points (the mean squared "
        "residual in scale units, dimensionless) exceeds this"
    )
    use_poor_fits: Bool = field(
        "whether poor_fit mappings are still used downstream (use_downstream true)"
    )


class MappingConfig(Section):
    """The ``mapping:`` section: LIF and MTC fits to each condition's HH f-I curve."""

    dt_ms: PositiveFloat = field("LIF time step, ms (one snntorch update per step)")
    reference_condition: Name = field(
        "condition whose fit sets the input gain w every condition keeps (a conditions.tsv "
        "name); also the control of every 'condition minus control' comparison"
    )
    alpha_syn: OpenUnitFloat = field(
        "synaptic current decay per step of snntorch's Synaptic, in (0, 1) (fixed)"
    )
    mtc_time_unit_ms: PositiveFloat = field("MTC model time unit, ms")
    objective: ObjectiveConfig
    lif: LifFitConfig
    mtc: MtcFitConfig
    goodness_of_fit: GoodnessOfFitConfig
    validation: ValidationScoreConfig
