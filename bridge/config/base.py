"""Building blocks of the config models: a strict base class and typed field helpers.

Every section model derives from :class:`Section`: unknown keys are refused, values are
frozen and checked strictly (a boolean is not a number, ``3.0`` is not a count, a string is
not a number, NaN and infinities are refused). :meth:`Section.from_config` turns pydantic's
errors into one :class:`ConfigError` whose lines name each key by its dotted path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from annotated_types import Ge, Gt, Le, Lt
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError

#: A path-safe name (a condition or a scenario): it becomes part of file names.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"


class ConfigError(ValueError):
    """A config file or the conditions table is invalid (message names file, row, field)."""


def _dotted(where: str, loc: tuple[int | str, ...]) -> str:
    return ".".join([where, *map(str, loc)] if where else map(str, loc)) or "<top>"


def config_error(error: ValidationError, where: str = "", source: str = "") -> ConfigError:
    """One ConfigError listing each problem as ``config key '<dotted.path>': <message>``.

    ``where`` is the dotted path of the validated section, ``source`` the file(s) it came from.
    """
    lines = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        message = item["msg"].removeprefix("Value error, ")
        if message.startswith(_KEY_MARK):
            key, message = message.removeprefix(_KEY_MARK).split(" ", 1)
            loc = (*loc, key)
        if item["type"] == "extra_forbidden":
            message = "unknown key (not in the config models; check its spelling)"
        elif item["type"] == "missing":
            message = "required key is missing"
        lines.append(f"config key '{_dotted(where, loc)}': {message}")
    origin = f" ({source})" if source else ""
    return ConfigError(f"invalid configuration{origin}:\n  " + "\n  ".join(lines))


_KEY_MARK = "@key:"


def relation_error(key: str, message: str) -> ValueError:
    """A cross-field check's failure, reported under ``key`` (dotted, below the model)."""
    return ValueError(f"{_KEY_MARK}{key} {message}")


class Section(BaseModel):
    """A config section: strict, frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def from_config(cls, section: Mapping[str, Any], where: str = "") -> Self:
        """Validate a plain config dict; ``where`` is its dotted path, used in the message."""
        try:
            return cls.model_validate(section)
        except ValidationError as error:
            raise config_error(error, where) from None


def field(description: str) -> Any:
    """A required field; ``description`` gives the meaning and the unit."""
    return Field(description=description)


# Strict scalars: pydantic's lax mode would read True as 1, 3.0 as 3 and "2" as 2.0.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]
Str = Annotated[str, Strict()]

PositiveFloat = Annotated[Float, Gt(0)]
NonNegativeFloat = Annotated[Float, Ge(0)]
UnitFloat = Annotated[Float, Ge(0), Le(1)]
OpenUnitFloat = Annotated[Float, Gt(0), Lt(1)]
NonNegativeInt = Annotated[Int, Ge(0)]
PositiveInt = Annotated[Int, Ge(1)]
Name = Annotated[Str, Field(pattern=NAME_PATTERN)]
NonEmptyStr = Annotated[Str, Field(min_length=1)]


def _increasing(bounds: tuple[float, float]) -> tuple[float, float]:
    if not bounds[0] < bounds[1]:
        raise ValueError(f"{list(bounds)} must be [low, high] with low < high")
    return bounds


#: [low, high] search bounds with 0 < low < high.
PositiveBounds = Annotated[tuple[PositiveFloat, PositiveFloat], AfterValidator(_increasing)]
#: [low, high] search bounds with low < high < -1 (a negative-conductance fast gain).
BelowMinusOneBounds = Annotated[
    tuple[Annotated[Float, Lt(-1)], Annotated[Float, Lt(-1)]], AfterValidator(_increasing)
]


def unique(values: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"{list(values)} lists an entry more than once")
    return values


Seeds = Annotated[tuple[NonNegativeInt, ...], Field(min_length=1), AfterValidator(unique)]


class TrainingJobs(Section):
    """Cluster resources of each training job (the rules' resources; runs ignore them)."""

    gpus: NonNegativeInt = field(
        "GPUs per training job: the SLURM executor plugin's gpu resource (0 requests none; "
        "ignored by local runs)"
    )
    runtime_min: PositiveInt = field("SLURM runtime per training job, minutes")
    mem_mb: PositiveInt = field("memory per training job, MB")
