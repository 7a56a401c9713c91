"""Typed view of the ``regressor:`` section of the workflow config.

The schema (workflow/schemas/config.schema.yaml) checks types and ranges when a config file
is loaded; this module turns the section into dataclasses and re-checks the relations the
schema cannot express (washout shorter than a window, a window no longer than the training
span), naming the key. Times: ``mtc_step_time_units`` is in MTC model time units; the
Mackey-Glass spans are in Lyapunov times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bridge.config_fields import ConfigFields
from bridge.neurons.mtc import MTC_PRESETS
from bridge.regressor.mackey_glass import MackeyGlassParams

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64")


class RegressorConfigError(ValueError):
    """The regressor section is incomplete or inconsistent (message names the key)."""


@dataclass(frozen=True)
class TrainingSettings:
    """BPTT on one-step-ahead windows of the training span (Adam, MSE on z-scored data).

    Each epoch cuts the training span into windows of ``window_steps`` samples starting every
    ``window_stride`` samples, shuffles them (seeded) into batches of ``batch_size``, and
    takes one Adam step per batch. Every window starts from the layer's initial state, so
    the first ``washout_steps`` of each window are run but not scored.
    """

    epochs: int
    learning_rate: float
    batch_size: int
    window_steps: int
    washout_steps: int
    window_stride: int
    grad_clip_norm: float


@dataclass(frozen=True)
class BaselineSettings:
    """Ridge autoregressive baseline: ``ridge_order`` lags, penalty ``ridge_alpha`` (z units)."""

    ridge_order: int
    ridge_alpha: float


@dataclass(frozen=True)
class RegressorSettings:
    seeds: tuple[int, ...]
    n_hidden: int
    projection_bias: bool
    dtype: str
    device: str
    mackey_glass: MackeyGlassParams
    training: TrainingSettings
    mtc_step_time_units: float
    mtc_reference_preset: str
    lif_reference_beta: float
    baselines: BaselineSettings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = ConfigFields(RegressorConfigError)
_get = _FIELDS.get
_count = _FIELDS.count
_choice = _FIELDS.choice


def _number(section: Mapping[str, Any], key: str, where: str, *, minimum: float = 0.0) -> float:
    return _FIELDS.number(section, key, where, minimum=minimum)


def _positive(section: Mapping[str, Any], key: str, where: str) -> float:
    return _FIELDS.number(section, key, where, positive=True)


def _seeds(section: Mapping[str, Any], where: str) -> tuple[int, ...]:
    value = _get(section, "seeds", where)
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
        or len(set(value)) != len(value)
    ):
        raise RegressorConfigError(
            f"config key '{where}.seeds': {value!r} must be a non-empty list of distinct "
            "integers >= 0"
        )
    return tuple(value)


def regressor_settings(cfg: Mapping[str, Any]) -> RegressorSettings:
    """Parse ``config['regressor']``; raise RegressorConfigError naming the bad key."""
    where = "regressor"
    mg = _get(cfg, "mackey_glass", where)
    mw = f"{where}.mackey_glass"
    mackey_glass = MackeyGlassParams(
        train_lyapunov_times=_positive(mg, "train_lyapunov_times", mw),
        test_lyapunov_times=_positive(mg, "test_lyapunov_times", mw),
        transient_lyapunov_times=_number(mg, "transient_lyapunov_times", mw),
        start_offset_points=_count(mg, "start_offset_points", mw, 0),
    )
    tr = _get(cfg, "training", where)
    tw = f"{where}.training"
    training = TrainingSettings(
        epochs=_count(tr, "epochs", tw, 1),
        learning_rate=_positive(tr, "learning_rate", tw),
        batch_size=_count(tr, "batch_size", tw, 1),
        window_steps=_count(tr, "window_steps", tw, 2),
        washout_steps=_count(tr, "washout_steps", tw, 0),
        window_stride=_count(tr, "window_stride", tw, 1),
        grad_clip_norm=_positive(tr, "grad_clip_norm", tw),
    )
    if training.washout_steps >= training.window_steps:
        raise RegressorConfigError(
            f"config key '{tw}.washout_steps' ({training.washout_steps}) must be smaller than "
            f"'{tw}.window_steps' ({training.window_steps})"
        )
    if training.window_steps > mackey_glass.n_train:
        raise RegressorConfigError(
            f"config key '{tw}.window_steps' ({training.window_steps}) exceeds the training "
            f"span ({mackey_glass.n_train} samples of '{mw}.train_lyapunov_times')"
        )
    mtc = _get(cfg, "mtc", where)
    preset = _choice(mtc, "reference_preset", f"{where}.mtc", tuple(MTC_PRESETS))
    lif = _get(cfg, "lif", where)
    beta = _number(lif, "reference_beta", f"{where}.lif")
    if beta > 1.0:
        raise RegressorConfigError(f"config key '{where}.lif.reference_beta' must be in [0, 1]")
    bl = _get(cfg, "baselines", where)
    bw = f"{where}.baselines"
    baselines = BaselineSettings(
        ridge_order=_count(bl, "ridge_order", bw, 1),
        ridge_alpha=_number(bl, "ridge_alpha", bw),
    )
    if baselines.ridge_order >= mackey_glass.n_train:
        raise RegressorConfigError(f"config key '{bw}.ridge_order' exceeds the training span")
    projection_bias = _get(cfg, "projection_bias", where)
    if not isinstance(projection_bias, bool):
        raise RegressorConfigError(f"config key '{where}.projection_bias' must be true or false")
    return RegressorSettings(
        seeds=_seeds(cfg, where),
        n_hidden=_count(cfg, "n_hidden", where, 1),
        projection_bias=projection_bias,
        dtype=_choice(cfg, "dtype", where, DTYPES),
        device=_choice(cfg, "device", where, DEVICES),
        mackey_glass=mackey_glass,
        training=training,
        mtc_step_time_units=_positive(mtc, "step_time_units", f"{where}.mtc"),
        mtc_reference_preset=preset,
        lif_reference_beta=beta,
        baselines=baselines,
    )
