"""The files that cross a stage boundary, typed, with one reader and one writer each.

Described in ``docs/contracts.md`` (what each file holds, who writes it, who reads it):

- ``hh/{condition}/summary.json``: :class:`HHSummary`, :func:`read_hh_summary`,
  :func:`write_hh_summary`;
- ``hh/{condition}/fi_curve.csv``: a table with :data:`FI_COLUMNS`, :func:`read_fi_curve`,
  :func:`write_fi_curve`;
- ``mapping/{condition}.json``: :class:`MappingRecord` (its LIF part and its ``mtc`` part,
  each a :class:`MappingPart`), :func:`read_mapping_record`, :func:`write_mapping_record`;
- ``autoencoder/{scenario}/sigma{label}/seed{seed}/metrics.json``:
  :class:`AutoencoderMetrics`, :func:`read_autoencoder_metrics`, :func:`write_run_metrics`;
- ``regressor/{condition}/{model}/seed{seed}/metrics.json``: :class:`RegressorMetrics`,
  :func:`read_regressor_metrics`, :func:`write_run_metrics`.

A record keeps the whole dict its stage built (``data``) beside the typed fields its
consumers need, so ``to_dict()`` gives back exactly what was read and a writer's JSON is
byte for byte what :func:`bridge.io.write_json` wrote before (sorted keys, null for
non-finite floats). Every reader raises :class:`StageFileError` naming the file and the field.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import pandas as pd

from bridge.io import read_json, to_jsonable, write_csv, write_json


class StageFileError(ValueError):
    """A stage file is missing, unreadable or has a bad field (message: file and field).

    ``reason`` is the message without the file (what the compare stage's gap table shows).
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = message if reason is None else reason

    @classmethod
    def at(cls, where: str | Path, reason: str) -> StageFileError:
        """``"{where}: {reason}"``, keeping ``reason``."""
        return cls(f"{where}: {reason}", reason)


#: The mapping stage's and the regressor's name for a bad mapping input: the same type.
MappingInputError = StageFileError

#: ``validation.headline`` of a mapping record: held-out coincidence factor at the hit
#: window, hit fraction and count ratio (means over levels), and the transient's spike-count
#: error in the shortest window, per model (null: not evaluable, see ``headline_reason``).
VALIDATION_HEADLINE_KEYS = (
    "lif_gamma",
    "lif_fine_gamma",
    "mtc_gamma",
    "lif_timing_fit_gamma",
    "lif_hit_fraction",
    "lif_fine_hit_fraction",
    "mtc_hit_fraction",
    "lif_count_ratio",
    "mtc_count_ratio",
    "lif_transient_count_mae",
    "mtc_transient_count_mae",
)

#: Statuses of a network run (autoencoder or regressor ``metrics.json``).
RUN_STATUSES = ("ok", "skipped", "diverged")


def read_stage_json(path: str | Path) -> dict[str, Any]:
    """One stage file's JSON object; StageFileError when missing, unreadable or not an object."""
    path = Path(path)
    if not path.is_file():
        raise StageFileError.at(path, "file not found")
    try:
        doc = read_json(path)
    except (OSError, ValueError) as err:
        raise StageFileError.at(path, f"{type(err).__name__}: {err}") from err
    if not isinstance(doc, dict):
        raise StageFileError.at(path, "top level is not a JSON object")
    return doc


def _field(data: Mapping[str, Any], key: str, source: str) -> Any:
    if key not in data:
        raise StageFileError.at(source, f"field '{key}' is missing")
    return data[key]


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def finite_field(data: Mapping[str, Any], key: str, source: str) -> float:
    """``data[key]`` as a finite float; StageFileError naming ``source`` and ``key``."""
    value = _field(data, key, source)
    if not _is_number(value):
        raise StageFileError.at(source, f"field '{key}' must be a finite number; got {value!r}")
    return float(value)


def _optional_number(data: Mapping[str, Any], key: str, source: str) -> float | None:
    value = _field(data, key, source)
    if value is None:
        return None
    return finite_field(data, key, source)


def _bool_field(data: Mapping[str, Any], key: str, source: str) -> bool:
    value = _field(data, key, source)
    if not isinstance(value, bool):
        raise StageFileError.at(source, f"field '{key}' must be true or false; got {value!r}")
    return value


def _text_field(data: Mapping[str, Any], key: str, source: str) -> str:
    value = _field(data, key, source)
    if not isinstance(value, str) or not value:
        raise StageFileError.at(source, f"field '{key}' must be a non-empty string; got {value!r}")
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _int_field(data: Mapping[str, Any], key: str, source: str) -> int:
    value = _field(data, key, source)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StageFileError.at(source, f"field '{key}' must be an integer; got {value!r}")
    return value


def _mapping_field(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise StageFileError.at(source, f"field '{key}' is missing or not a mapping")
    return value


def _object(data: Any, source: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise StageFileError.at(source, "expected a JSON object")
    return data


# --- HH stage -------------------------------------------------------------------------------

#: Columns of ``fi_curve.csv``, in file order: step amplitude (density and current), spikes in
#: the step window, spikes in the whole sweep, step-window rate, first-spike latency after
#: step onset (empty without a spike), depolarisation block (true/false).
FI_COLUMNS = (
    "amp_uA_cm2",
    "amp_nA",
    "spike_count",
    "n_spikes",
    "rate_hz",
    "first_spike_latency_ms",
    "block",
)


#: HH-level excitability statuses (``bridge.hh.features.EXCITABILITY_RULES`` defines them).
EXCITABILITY_STATUSES = (
    "never_fires",
    "block_at_rest",
    "spontaneous",
    "onset_only",
    "silent_at_rest",
)


def _excitability(data: Mapping[str, Any], source: str) -> str | None:
    value = data.get("excitability")
    if value is not None and value not in EXCITABILITY_STATUSES:
        raise StageFileError.at(
            source,
            f"field 'excitability' must be one of {list(EXCITABILITY_STATUSES)}; got {value!r}",
        )
    return value


@dataclass(frozen=True)
class HHSummary:
    """``hh/{condition}/summary.json``: one condition's excitability (amplitudes in uA/cm2).

    Thresholds are null where no amplitude qualifies (the ``*_reason`` fields say why).
    """

    condition: str
    gnabar: float  # S/cm2
    gkbar: float  # S/cm2
    gl: float  # S/cm2
    spontaneous: bool
    spontaneous_rate_hz: float | None
    rheobase_single_uA_cm2: float | None
    rheobase_repetitive_uA_cm2: float | None
    block_onset_uA_cm2: float | None
    n_block_sweeps: int
    v_rest_mV: float | None
    tau_m_ms: float | None
    #: one of EXCITABILITY_STATUSES; None in a summary written before the field existed
    excitability: str | None
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "summary.json") -> HHSummary:
        """Check and type the dict the HH stage builds (``source`` names it in errors)."""
        data = _object(data, source)
        params = _mapping_field(data, "params", source)
        where = f"{source} (params)"
        optional = {
            key: _optional_number(data, key, source)
            for key in (
                "spontaneous_rate_hz",
                "rheobase_single_uA_cm2",
                "rheobase_repetitive_uA_cm2",
                "block_onset_uA_cm2",
                "v_rest_mV",
                "tau_m_ms",
            )
        }
        return cls(
            condition=_text_field(data, "condition", source),
            gnabar=finite_field(params, "gnabar", where),
            gkbar=finite_field(params, "gkbar", where),
            gl=finite_field(params, "gl", where),
            spontaneous=_bool_field(data, "spontaneous", source),
            n_block_sweeps=_int_field(data, "n_block_sweeps", source),
            excitability=_excitability(data, source),
            data=copy.deepcopy(dict(data)),
            **optional,
        )

    @property
    def params(self) -> Mapping[str, Any]:
        """The cell's HH parameters (``hh_models.params.HHParams`` as a dict)."""
        return self.data["params"]

    def to_dict(self) -> dict[str, Any]:
        """The dict this record was built from (a copy)."""
        return copy.deepcopy(dict(self.data))


def read_hh_summary(path: str | Path) -> HHSummary:
    """Read and check ``summary.json``; StageFileError names the file and field."""
    return HHSummary.from_dict(read_stage_json(path), str(path))


def write_hh_summary(path: str | Path, summary: Mapping[str, Any] | HHSummary) -> HHSummary:
    """Check the HH stage's summary dict against the contract, then write it."""
    if not isinstance(summary, HHSummary):
        summary = HHSummary.from_dict(to_jsonable(summary), str(path))
    write_json(path, summary.data)
    return summary


def read_fi_curve(path: str | Path, columns: tuple[str, ...] = FI_COLUMNS) -> pd.DataFrame:
    """``fi_curve.csv`` as written (empty cells NaN); ``columns`` are the ones the reader needs."""
    path = Path(path)
    if not path.is_file():
        raise StageFileError.at(path, "f-I table not found")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise StageFileError.at(path, f"{type(err).__name__}: {err}") from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise StageFileError.at(path, f"missing column(s) {missing}")
    return frame


def write_fi_curve(
    path: str | Path, frame: pd.DataFrame, provenance: Mapping[str, Any] | None = None
) -> None:
    """Write ``fi_curve.csv`` (columns exactly :data:`FI_COLUMNS`) with its provenance sidecar."""
    if tuple(frame.columns) != FI_COLUMNS:
        raise StageFileError.at(path, f"columns {list(frame.columns)}, expected {list(FI_COLUMNS)}")
    write_csv(path, frame, provenance)


# --- Mapping stage --------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingPart:
    """One neuron model's part of a mapping record: the flat LIF fields or the ``mtc`` dict.

    ``use_downstream`` says whether the networks may use it; ``fields`` is the part's dict
    (LIF: the whole record), read through :meth:`number` by what needs a value.
    """

    model: str  # lif | mtc
    source: str  # file and part, for messages
    status: str | None
    use_downstream: bool
    downstream_rule: str | None
    fields: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], model: str, source: str) -> MappingPart:
        return cls(
            model=model,
            source=source,
            status=_optional_text(data, "status"),
            use_downstream=_bool_field(data, "use_downstream", source),
            downstream_rule=_optional_text(data, "downstream_rule"),
            fields=data,
        )

    def number(self, key: str) -> float:
        """A value a usable mapping must hold: finite, else StageFileError naming the field."""
        return finite_field(self.fields, key, self.source)


@dataclass(frozen=True)
class MappingRecord:
    """``mapping/{condition}.json``: the condition's LIF mapping (flat fields: ``status``,
    ``use_downstream``, ``beta_fit``, ``bias_fit``, ``dt_ms`` ...), its MTC mapping (the
    ``mtc`` dict, same flags) and the HH excitability it was fitted to (``hh``)."""

    condition: str
    source: str
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "mapping record") -> MappingRecord:
        """Check the record's identity; each part is checked when read (``lif``, ``mtc``)."""
        data = _object(data, source)
        return cls(_text_field(data, "condition", source), source, copy.deepcopy(dict(data)))

    @classmethod
    def of(cls, mapping: Mapping[str, Any] | MappingRecord, source: str) -> MappingRecord:
        """``mapping`` itself when already a record, else :meth:`from_dict` of it."""
        return mapping if isinstance(mapping, MappingRecord) else cls.from_dict(mapping, source)

    @property
    def lif(self) -> MappingPart:
        """The LIF mapping (the record's flat fields)."""
        return MappingPart.from_dict(self.data, "lif", self.source)

    @property
    def mtc(self) -> MappingPart:
        """The MTC mapping (the ``mtc`` dict)."""
        mtc = _mapping_field(self.data, "mtc", self.source)
        return MappingPart.from_dict(mtc, "mtc", f"{self.source} (mtc)")

    def part(self, model: str) -> MappingPart:
        """The part of neuron model ``model`` (lif | mtc)."""
        if model not in ("lif", "mtc"):
            raise ValueError(f"mapping record: no part for model {model!r} (lif, mtc)")
        return self.lif if model == "lif" else self.mtc

    def gate_flags(self, arm: str) -> list[str]:
        """Validation flags gating a downstream arm (``autoencoder``, ``regressor_lif``,
        ``regressor_mtc``): ``validation.gates[arm]``; empty for a record without one."""
        validation = self.data.get("validation")
        if validation is None:
            return []
        gates = validation.get("gates") if isinstance(validation, Mapping) else None
        found = gates.get(arm) if isinstance(gates, Mapping) else None
        if not isinstance(found, list) or not all(isinstance(f, str) for f in found):
            raise StageFileError.at(self.source, f"field 'validation.gates.{arm}' is not a list")
        return list(found)

    @property
    def mtc_time_unit_ms(self) -> float:
        """Milliseconds per MTC model time unit."""
        return finite_field(self.data, "mtc_time_unit_ms", self.source)

    def to_dict(self) -> dict[str, Any]:
        """The dict this record was built from (a copy)."""
        return copy.deepcopy(dict(self.data))


def read_mapping_record(path: str | Path, condition: str | None = None) -> MappingRecord:
    """Read ``mapping/{condition}.json``; ``condition``, when given, must match the record's."""
    record = MappingRecord.from_dict(read_stage_json(path), str(path))
    if condition is not None and record.condition != condition:
        raise StageFileError.at(
            path, f"field 'condition' is {record.condition!r}, expected {condition!r}"
        )
    return record


def write_mapping_record(
    path: str | Path, record: Mapping[str, Any] | MappingRecord
) -> MappingRecord:
    """Check the mapping stage's condition dict (identity, both parts' flags), then write it."""
    if not isinstance(record, MappingRecord):
        record = MappingRecord.from_dict(to_jsonable(record), str(path))
    record.lif, record.mtc  # noqa: B018 - both parts must parse before the file exists
    write_json(path, record.data)
    return record


# --- Network runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunMetrics:
    """A network run's ``metrics.json``: identity, ``status`` (:data:`RUN_STATUSES`) and
    ``reason`` (why skipped or diverged); the metrics of an ``ok`` run are in ``data``.

    Subclasses name their identity fields and parsers in ``IDENTITY``.
    """

    IDENTITY: ClassVar[dict[str, Callable[[Mapping[str, Any], str, str], Any]]] = {}

    source: str
    seed: int
    status: str
    reason: str | None
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "metrics.json") -> Self:
        """Check and type a run's metrics dict (``source`` names it in errors)."""
        data = _object(data, source)
        status = _text_field(data, "status", source)
        if status not in RUN_STATUSES:
            raise StageFileError.at(
                source, f"field 'status' is {status!r}, not one of {RUN_STATUSES}"
            )
        return cls(
            source=source,
            seed=_int_field(data, "seed", source),
            status=status,
            reason=_optional_text(data, "reason"),
            data=copy.deepcopy(dict(data)),
            **{name: parse(data, name, source) for name, parse in cls.IDENTITY.items()},
        )

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """Read and check one ``metrics.json``."""
        return cls.from_dict(read_stage_json(path), str(path))

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """The dict this record was built from (a copy)."""
        return copy.deepcopy(dict(self.data))


@dataclass(frozen=True)
class AutoencoderMetrics(RunMetrics):
    """``autoencoder/{scenario}/sigma{label}/seed{seed}/metrics.json``."""

    IDENTITY: ClassVar[dict[str, Callable[[Mapping[str, Any], str, str], Any]]] = {
        "scenario": _text_field,
        "sigma": finite_field,
    }

    scenario: str = ""
    sigma: float = 0.0  # input-noise SD


#: The regressor's closed loop scored over its first Lyapunov time only.
FIRST_LYAPUNOV = "closed_loop_first_lyapunov_time"
#: Evaluation horizons of a regressor metrics.json (keys of ``evaluation`` and of each
#: baseline): one step ahead, the whole closed loop, its first Lyapunov time.
REGRESSOR_HORIZONS = ("one_step", "closed_loop", FIRST_LYAPUNOV)
#: Numbers of each ``evaluation.<horizon>`` block that the tables carry as
#: ``<metric>_<horizon>`` (accuracy, skill against the baselines, activity).
REGRESSOR_HORIZON_METRICS = (
    "r2",
    "smape",
    "smape_z",
    "skill_vs_repeat_last",
    "skill_vs_ridge_ar",
    "s_comm",
    "activation_sparsity",
    "synaptic_ops",
    "s_comp",
)


@dataclass(frozen=True)
class RegressorMetrics(RunMetrics):
    """``regressor/{condition}/{model}/seed{seed}/metrics.json`` (condition ``reference``
    for the trained arms, the runs without a mapping whose neuron parameters train; the
    layout is in :mod:`bridge.regressor.stage`)."""

    IDENTITY: ClassVar[dict[str, Callable[[Mapping[str, Any], str, str], Any]]] = {
        "condition": _text_field,
        "model": _text_field,
    }

    condition: str = ""
    model: str = ""


def read_autoencoder_metrics(path: str | Path) -> AutoencoderMetrics:
    """Read and check an autoencoder run's ``metrics.json``."""
    return AutoencoderMetrics.read(path)


def read_regressor_metrics(path: str | Path) -> RegressorMetrics:
    """Read and check a regressor run's ``metrics.json``."""
    return RegressorMetrics.read(path)


def write_run_metrics(
    path: str | Path, metrics: Mapping[str, Any], kind: type[RunMetrics]
) -> RunMetrics:
    """Check a run's metrics dict as ``kind`` (AutoencoderMetrics | RegressorMetrics), write it."""
    if kind not in (AutoencoderMetrics, RegressorMetrics):
        raise ValueError(f"write_run_metrics: kind must be a run-metrics record, got {kind}")
    record = kind.from_dict(to_jsonable(metrics), str(path))
    write_json(path, record.data)
    return record
