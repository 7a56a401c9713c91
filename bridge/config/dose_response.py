"""A dense gNa dose-response as a conditions table (issue 15, part 3).

Each gNa point appears twice: as is (leak reversal kept at NEURON's el = -54.3 mV, so above
gNa ~0.2 S/cm2 the cell fires at rest) and leak re-balanced through the table's ``v_rest_mV``
column (hh_models.params.rebalanced_el moves el so the cell rests at the control's resting
potential). Above gNa ~0.2 S/cm2 that fixed point is unstable (the re-balanced cell spikes
after a 2 mV kick: hh.rebalance's check would reject the row), so there the target is the
most depolarized stable rest below the control's, searched in REST_STEP_mV steps with the same
NEURON check the HH stage runs. A short Na activation-shift grid at the control gNa is added
as is.

    python -m bridge.config.dose_response --out config/conditions_dose_response.tsv
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from scipy.optimize import brentq

from bridge.config.base import ConfigError
from bridge.config.loading import Condition, load_config
from hh_models.params import HHParams, params_from_condition, steady_state_currents
from hh_models.protocols import check_rest_stability

#: NEURON hh defaults (the control row of config/conditions.tsv), S/cm2.
CONTROL_GNABAR = 0.12
CONTROL_GKBAR = 0.036
CONTROL_GL = 0.0003
#: Grid: CONTROL_GNABAR * 2**(k / STEPS_PER_OCTAVE) for k in K_RANGE, so the control is a point.
STEPS_PER_OCTAVE = 4
K_FIRST, K_LAST = -4, 13  # 0.06 .. 1.14 S/cm2, 18 points
#: Na activation shifts (mV) at the control gNa (negative = activates at lower V).
M_SHIFTS_mV = (-6.0, -3.0, 3.0, 6.0)
#: Bracket (mV) in which the control's resting potential is searched.
REST_BRACKET_mV = (-90.0, -50.0)
#: Step (mV) and floor (mV) of the search for a stable re-balanced rest.
REST_STEP_mV = 1.0
REST_FLOOR_mV = -90.0
#: Config whose hh section (celsius, rebalance check) the search uses.
DEFAULT_CONFIG = Path("config/config.yaml")
#: Suffix of the leak re-balanced twin of a gNa point.
REBALANCED_SUFFIX = "_rb"
COLUMNS = ("name", "gnabar", "gkbar", "gl", "m_shift_mV", "v_rest_mV", "description")


@dataclass(frozen=True)
class DoseResponseRow:
    """One generated row; None cells are written empty (model default)."""

    name: str
    gnabar: float
    m_shift_mV: float | None
    v_rest_mV: float | None
    description: str

    def cells(self) -> list[str]:
        def fmt(value: float | None) -> str:
            return "" if value is None else f"{value:g}"

        return [
            self.name,
            fmt(self.gnabar),
            fmt(CONTROL_GKBAR),
            fmt(CONTROL_GL),
            fmt(self.m_shift_mV),
            fmt(self.v_rest_mV),
            self.description,
        ]


def control_rest_mV() -> float:
    """Resting potential (mV) of the control cell: zero net steady-state current."""
    params = HHParams(gnabar=CONTROL_GNABAR, gkbar=CONTROL_GKBAR, gl=CONTROL_GL)

    def net_current(v_mV: float) -> float:
        cur = steady_state_currents(params, v_mV)
        return float(cur["ina"] + cur["ik"] + params.gl * (v_mV - params.el_mV))

    return round(brentq(net_current, *REST_BRACKET_mV), 2)


def stable_rest_mV(gnabar: float, target_mV: float, hh_cfg: dict) -> float:
    """The most depolarized re-balanced rest (mV) at or below ``target_mV`` that passes the
    HH stage's stability check (hh.rebalance) for this gNa."""
    rb = hh_cfg["rebalance"]
    v = target_mV
    while v >= REST_FLOOR_mV:
        cond = Condition("probe", gnabar, CONTROL_GKBAR, CONTROL_GL, v_rest_mV=v)
        try:
            check_rest_stability(
                params_from_condition(cond, hh_cfg),
                float(rb["perturbation_mV"]),
                float(rb["settle_ms"]),
                float(rb["tolerance_mV"]),
            )
            return v
        except ConfigError:
            v = round(v - REST_STEP_mV, 2)
    raise ConfigError(f"gNa {gnabar} S/cm2: no stable re-balanced rest above {REST_FLOOR_mV} mV")


def gnabar_grid() -> list[float]:
    """The gNa points, S/cm2 (4 significant digits; the control value exactly)."""
    return [
        float(f"{CONTROL_GNABAR * 2 ** (k / STEPS_PER_OCTAVE):.4g}")
        for k in range(K_FIRST, K_LAST + 1)
    ]


def _grid_name(gnabar: float) -> str:
    return f"gna{gnabar:.4f}".replace(".", "p")


def _point_name(gnabar: float) -> str:
    return "control" if gnabar == CONTROL_GNABAR else _grid_name(gnabar)


def dose_response_rows(hh_cfg: dict) -> list[DoseResponseRow]:
    """Every gNa point as is and re-balanced, then the activation-shift points."""
    v_control = control_rest_mV()
    rows: list[DoseResponseRow] = []
    for gnabar in gnabar_grid():
        v_rest = stable_rest_mV(gnabar, v_control, hh_cfg)
        held = "the control's" if v_rest == v_control else f"below the control's {v_control:g} mV"
        name = _point_name(gnabar)
        rows.append(DoseResponseRow(name, gnabar, None, None, f"gNa {gnabar:g} S/cm2, el kept"))
        rows.append(
            DoseResponseRow(
                _grid_name(gnabar) + REBALANCED_SUFFIX,
                gnabar,
                None,
                v_rest,
                f"gNa {gnabar:g} S/cm2, leak re-balanced to rest at {v_rest:g} mV ({held})",
            )
        )
    for shift in M_SHIFTS_mV:
        sign = "m" if shift < 0 else "p"
        rows.append(
            DoseResponseRow(
                f"mshift_{sign}{abs(shift):g}",
                CONTROL_GNABAR,
                shift,
                None,
                f"Na activation shifted {shift:+g} mV at the control gNa",
            )
        )
    return rows


def write_table(path: Path, config_path: Path = DEFAULT_CONFIG) -> int:
    """Write the table as TSV; returns the number of rows."""
    rows = dose_response_rows(load_config([config_path])["hh"])
    lines = ["\t".join(COLUMNS)] + ["\t".join(r.cells()) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="conditions TSV to write")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="hh settings")
    args = parser.parse_args(argv)
    n = write_table(args.out, args.config)
    print(f"{args.out}: {n} conditions")


if __name__ == "__main__":
    main()
