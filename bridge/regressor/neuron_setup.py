"""From a condition's mapping JSON (or none) to the hidden layer the regressor trains.

Per condition (``results/mapping/{condition}.json``, read as a
:class:`bridge.contracts.MappingRecord`):

- ``mtc``: every :class:`~bridge.neurons.mtc.MTCParams` field from the JSON's ``mtc`` dict,
  frozen (gains, offsets, timescales, bias, input scale/offset, output window, Euler dt).
  One regressor step lasts ``step_time_units`` MTC time units (config), i.e.
  ``step_time_units / dt`` Euler substeps with the input held; this must be a whole number.
- ``lif``: ``beta_fit`` frozen and ``bias_fit`` as a fixed input offset (threshold units per
  step); one regressor step is one LIF step (the mapping's ``dt_ms``).
- ``adlif``: trained with its own parameters in every run; it takes no mapping.

Without a mapping: the trained arms (condition label ``reference``), as the MTC paper ran
them. Every model trains its neuron parameters beside its weights: MTC the fields of
``regressor.trained.mtc_trainable`` (the paper: gains and offsets), starting from the preset
``regressor.mtc.reference_preset``; LIF its beta per neuron when
``regressor.trained.lif_train_beta`` (starting from ``regressor.lif.reference_beta``, no bias,
threshold fixed at 1); AdLIF as always. The mapped arms above answer a different question
(what the condition's neuron does, frozen) and are reported beside the trained arm of the
same model.

Skipping (the mapping contract: the flat ``status``/``use_downstream`` describe the LIF
mapping, ``mtc.status``/``mtc.use_downstream`` the MTC mapping): a LIF run whose mapping has
``use_downstream`` false, or an MTC run whose ``mtc.use_downstream`` is false, yields a skip
reason (naming the status and the mapping's rule) instead of a layer, so no network is ever
trained on missing values; each model follows its own flag. A usable mapping with a missing
or non-finite value the run needs is an error (:class:`bridge.contracts.MappingInputError`),
not a skip.

Input units: the regressor's input projection is trained, so it takes the place of the
mappings' input gains (LIF ``w_per_nA``; MTC ``input_scale`` stays in the neuron and only
rescales the trained projection). What the mapping fixes is the neuron itself: its time
constants, gains and resting drive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bridge.config.regressor import RegressorRunConfig
from bridge.contracts import MappingInputError, MappingPart, MappingRecord
from bridge.neurons.mtc import MTC_PRESETS, MTCParams
from bridge.neurons.registry import MODEL_NAMES, neuron_model
from bridge.regressor.model import RegressorSpec

#: Relative tolerance when checking that a step is a whole number of Euler substeps.
SUBSTEP_RTOL = 1e-9
MTC_FIELDS = tuple(f.name for f in fields(MTCParams))


@dataclass(frozen=True)
class NeuronSetup:
    """What to build (``spec``) or why not (``skip_reason``), and what was used (``used``)."""

    model: str
    spec: RegressorSpec | None
    skip_reason: str | None
    used: dict[str, Any] = field(default_factory=dict)


def _skip(part: MappingPart, prefix: str) -> NeuronSetup:
    status = part.status
    reason = f"{prefix}use_downstream is false ({prefix}status {status!r})"
    if part.downstream_rule:
        reason += f"; mapping rule: {part.downstream_rule}"
    return NeuronSetup(
        model=part.model, spec=None, skip_reason=reason, used={"mapping_status": status}
    )


def mtc_substeps(step_time_units: float, dt: float, source: str) -> int:
    """Euler substeps per regressor step; raises unless ``step_time_units / dt`` is whole."""
    ratio = step_time_units / dt
    substeps = round(ratio)
    if substeps < 1 or abs(ratio - substeps) > SUBSTEP_RTOL * max(ratio, 1.0):
        raise MappingInputError(
            f"{source}: regressor.mtc.step_time_units ({step_time_units}) is not a whole "
            f"multiple of the MTC Euler step dt ({dt})"
        )
    return substeps


def _mtc_setup(
    mapping: MappingRecord | None, settings: RegressorRunConfig, source: str, common: dict
) -> NeuronSetup:
    trainable: tuple[str, ...] = ()
    if mapping is None:
        params = MTC_PRESETS[settings.mtc.reference_preset]
        trainable = tuple(settings.trained.mtc_trainable)
        used: dict[str, Any] = {
            "source": f"preset {settings.mtc.reference_preset!r} (initial values), "
            "trained fields per regressor.trained.mtc_trainable"
        }
        time_unit_ms = None
    else:
        mtc = mapping.mtc
        if not mtc.use_downstream:
            return _skip(mtc, "mtc.")
        values = {name: mtc.number(name) for name in MTC_FIELDS}
        try:
            params = MTCParams(**values)
        except ValueError as err:
            raise MappingInputError(f"{mtc.source}: {err}") from err
        used = {"source": "mapping", "mtc_status": mtc.status}
        time_unit_ms = mapping.mtc_time_unit_ms
    substeps = mtc_substeps(settings.mtc.step_time_units, params.dt, source)
    used.update(
        params=params.to_dict(),
        substeps=substeps,
        step_time_units=settings.mtc.step_time_units,
        mtc_time_unit_ms=time_unit_ms,
        step_ms=None if time_unit_ms is None else settings.mtc.step_time_units * time_unit_ms,
        frozen=not trainable,
    )
    spec = RegressorSpec(
        "mtc", mtc_params=params, mtc_trainable=trainable, mtc_substeps=substeps, **common
    )
    return NeuronSetup(model="mtc", spec=spec, skip_reason=None, used=used)


def _lif_setup(
    mapping: MappingRecord | None, settings: RegressorRunConfig, source: str, common: dict
) -> NeuronSetup:
    train_beta = False
    if mapping is None:
        beta, bias, dt_ms = settings.lif.reference_beta, 0.0, None
        train_beta = settings.trained.lif_train_beta
        used: dict[str, Any] = {
            "source": "config regressor.lif.reference_beta (initial value), trained per "
            "regressor.trained.lif_train_beta"
        }
    else:
        lif = mapping.lif
        if not lif.use_downstream:
            return _skip(lif, "")
        beta = lif.number("beta_fit")
        bias = lif.number("bias_fit")
        dt_ms = lif.number("dt_ms")
        if not 0.0 <= beta <= 1.0:
            raise MappingInputError(f"{source}: field 'beta_fit' must lie in [0, 1]; got {beta}")
        used = {"source": "mapping", "mapping_status": lif.status}
    used.update(
        beta=beta,
        bias=bias,
        step_ms=dt_ms,
        frozen=not train_beta,
    )
    spec = RegressorSpec("lif", lif_beta=beta, lif_bias=bias, lif_train_beta=train_beta, **common)
    return NeuronSetup(model="lif", spec=spec, skip_reason=None, used=used)


def _gated(
    setup: NeuronSetup, record: MappingRecord | None, settings: RegressorRunConfig
) -> NeuronSetup:
    """Carry the mapping's validation flags for this arm; skip it when exclusion is on."""
    flags = [] if record is None else record.gate_flags(f"regressor_{setup.model}")
    used = {**setup.used, "validation_flags": flags}
    if setup.spec is not None and flags and settings.exclude_flagged:
        reason = f"validation flags {flags} and regressor.exclude_flagged is true"
        return NeuronSetup(model=setup.model, spec=None, skip_reason=reason, used=used)
    return NeuronSetup(setup.model, setup.spec, setup.skip_reason, used)


def neuron_setup(
    model: str,
    mapping: Mapping[str, Any] | MappingRecord | None,
    settings: RegressorRunConfig,
    source: str = "condition mapping",
) -> NeuronSetup:
    """The regressor spec for ``model`` under a condition's mapping (``None``: trained arm).

    ``source`` names the mapping (its file) in error messages. Raises
    :class:`MappingInputError` on a missing or non-finite field of a usable mapping.
    """
    if model not in MODEL_NAMES:
        raise ValueError(f"neuron_setup: model {model!r} is not one of {MODEL_NAMES}")
    record = None
    if mapping is not None:
        record = MappingRecord.of(mapping, source)
        if not neuron_model(model).per_condition:
            raise ValueError(
                f"neuron_setup: {model} is the reference baseline and takes no condition mapping"
            )
    common = {"n_hidden": settings.n_hidden, "projection_bias": settings.projection_bias}
    if model in ("mtc", "lif"):
        setup = (_mtc_setup if model == "mtc" else _lif_setup)(record, settings, source, common)
        return _gated(setup, record, settings)
    spec = RegressorSpec("adlif", adlif_trainable=True, **common)
    return NeuronSetup(
        model="adlif",
        spec=spec,
        skip_reason=None,
        used={
            "source": "SE-AdLIF (Baronig et al.), parameters trained",
            "step_ms": None,
            "frozen": False,
            "validation_flags": [],
        },
    )
