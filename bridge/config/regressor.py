"""The ``regressor:`` section: Mackey-Glass regressors with trained and mapped neurons."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from annotated_types import Ge
from pydantic import AfterValidator, model_validator

from bridge.config.base import (
    Bool,
    Int,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    Seeds,
    Str,
    TrainingJobs,
    UnitFloat,
    field,
    relation_error,
    unique,
)
from bridge.config.mapping import MtcPreset
from bridge.regressor.mackey_glass import MackeyGlassParams

#: Condition label of the regressor's trained arms (results/regressor/reference/{model}/): no
#: condition mapping, neuron parameters trained as in the MTC paper.
REGRESSOR_REFERENCE_LABEL = "reference"
#: Names of the regressor's neuron models (bridge.neurons.registry NEURON_MODELS, which
#: imports no torch but sits in a package that does; a test keeps the two equal).
RegressorModel = Literal["mtc", "lif", "adlif"]
#: Torch devices and dtypes a regressor run may use (auto: CUDA when available, else CPU).
Device = Literal["auto", "cpu", "cuda"]
Dtype = Literal["float32", "float64"]


class MackeyGlassConfig(Section):
    """Train/test spans of the Mackey-Glass series (NeuroBench: 10 + 10 Lyapunov times)."""

    train_lyapunov_times: PositiveFloat = field("training span, Lyapunov times")
    test_lyapunov_times: PositiveFloat = field("test span, Lyapunov times")
    transient_lyapunov_times: NonNegativeFloat = field(
        "integration discarded before the first sample, Lyapunov times"
    )
    start_offset_points: NonNegativeInt = field("samples skipped after the transient (count)")


class TrainingConfig(Section):
    """BPTT on one-step-ahead windows of the training span (Adam, MSE on z-scored data).

    Each epoch cuts the training span into windows of ``window_steps`` samples starting every
    ``window_stride`` samples, shuffles them (seeded) into batches of ``batch_size`` and takes
    one Adam step per batch. Every window starts from the layer's initial state, so its first
    ``washout_steps`` are run but not scored.
    """

    epochs: PositiveInt = field("passes over the training windows (count)")
    learning_rate: PositiveFloat = field("Adam learning rate")
    batch_size: PositiveInt = field("windows per Adam step (count)")
    window_steps: Annotated[Int, Ge(2)] = field("samples per training window (count, >= 2)")
    washout_steps: NonNegativeInt = field(
        "first samples of each window run but not scored (count, < window_steps)"
    )
    window_stride: PositiveInt = field("samples between window starts (count)")
    grad_clip_norm: PositiveFloat = field("gradient norm clip (z-scored MSE units)")

    @model_validator(mode="after")
    def _washout_inside_window(self) -> Self:
        if self.washout_steps >= self.window_steps:
            raise relation_error(
                "washout_steps",
                f"{self.washout_steps} must be smaller than window_steps ({self.window_steps})",
            )
        return self


class RegressorMtcConfig(Section):
    """The MTC hidden layer of the regressor."""

    step_time_units: PositiveFloat = field(
        "MTC model time units per regressor step (a whole number of the mapped Euler step dt; "
        "4.0 with mapping.mtc_time_unit_ms 0.25 is 1 ms, the LIF's step)"
    )
    reference_preset: MtcPreset = field(
        "MTC preset the trained arm (results/regressor/reference/mtc/) starts from"
    )


class RegressorLifConfig(Section):
    """The LIF hidden layer of the regressor."""

    reference_beta: UnitFloat = field(
        "membrane decay per step the trained arm (results/regressor/reference/lif/) starts "
        "from, in [0, 1]"
    )


#: Neuron fields an MTC layer may train (bridge.neurons.mtc MTC_TRAINABLE_FIELDS, which imports
#: torch; a test keeps the two equal).
MtcTrainableField = Literal[
    "a_fast",
    "a_slow_pos",
    "a_slow_neg",
    "a_ultraslow",
    "delta_fast",
    "delta_slow_pos",
    "delta_slow_neg",
    "delta_ultraslow",
    "i_bias",
]


class TrainedArmsConfig(Section):
    """The trained arms (``results/regressor/reference/{model}/``), as the MTC paper ran them:
    every network trains its neuron parameters beside its weights, starting from
    ``mtc.reference_preset`` / ``lif.reference_beta`` (SE-AdLIF always trains its own). The
    per-condition mapped arms keep their neuron parameters frozen whatever is set here."""

    mtc_trainable: Annotated[tuple[MtcTrainableField, ...], AfterValidator(unique)] = field(
        "MTC fields trained per neuron in the trained arm (the paper: the gains a_* and "
        "offsets delta_* of the four current elements); empty: frozen at the preset"
    )
    lif_train_beta: Bool = field(
        "train the LIF membrane decay beta per neuron in the trained arm (the paper's LIF; its "
        "threshold stays 1, as in MODELS.md section 5)"
    )


class BaselinesConfig(Section):
    """Ridge autoregressive baseline on z-scored lags."""

    ridge_order: PositiveInt = field("lags of the ridge AR baseline (count)")
    ridge_alpha: NonNegativeFloat = field("ridge penalty on the z-scored lag coefficients")


class RegressorRunConfig(TrainingJobs):
    """What a regressor training run reads: the ``regressor:`` section less ``paper_values``
    (the training rules' params leave it out, so a new citation reruns no training)."""

    seeds: Seeds = field("training seeds (distinct integers >= 0)")
    n_hidden: PositiveInt = field("hidden neurons (count)")
    projection_bias: Bool = field(
        "per-neuron bias in the input projection (false: the mapped parameters set the "
        "operating point)"
    )
    exclude_flagged: Bool = field(
        "skip condition arms whose mapping carries a regressor validation flag (e.g. "
        "timing_below_floor); false: train them and carry the flag into the tables"
    )
    dtype: Dtype = field("torch dtype of the networks")
    device: Device = field("torch device; auto: CUDA when available, else CPU")
    # Keeps the regressor's own lower bound (the autoencoder's jobs accept any positive MB).
    mem_mb: Annotated[Int, Ge(100)] = field("memory per training job, MB")
    mackey_glass: MackeyGlassConfig
    training: TrainingConfig
    mtc: RegressorMtcConfig
    lif: RegressorLifConfig
    trained: TrainedArmsConfig
    baselines: BaselinesConfig

    @property
    def mackey_glass_params(self) -> MackeyGlassParams:
        """The series' parameters: the library's equation constants with these spans."""
        return MackeyGlassParams(**self.mackey_glass.model_dump())

    @model_validator(mode="after")
    def _windows_fit_the_training_span(self) -> Self:
        n_train = self.mackey_glass_params.n_train
        if self.training.window_steps > n_train:
            raise relation_error(
                "training.window_steps",
                f"{self.training.window_steps} exceeds the training span ({n_train} samples "
                "of mackey_glass.train_lyapunov_times)",
            )
        if self.baselines.ridge_order >= n_train:
            raise relation_error(
                "baselines.ridge_order",
                f"{self.baselines.ridge_order} must be smaller than the training span "
                f"({n_train} samples)",
            )
        return self


class RegressorConfig(RegressorRunConfig):
    """The ``regressor:`` section: every condition x {mtc, lif} x seed trains one network with
    the condition's mapped neuron parameters frozen; the trained arms (MTC, LIF, AdLIF, their
    neuron parameters trained) once per seed under ``reference``."""

    paper_values: Str = field(
        "YAML file of the MTC paper's published numbers with citations (relative to the repository)"
    )
