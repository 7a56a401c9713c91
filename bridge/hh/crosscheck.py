"""Cross-check of NEURON's f-I curve against the Brian2 twin, sweep by sweep.

Rule (issue 2): the step-window rates agree within ``rate_tolerance_hz`` per sweep, except the
two sweeps on either side of a rate jump of more than ``onset_jump_hz`` between adjacent
amplitudes (in either simulator). Near such a jump the exact amplitude where it happens is
sensitive to the integrator, so those sweeps are excluded from the rate test and the jump is
checked instead: the other simulator must make a jump of the same sign no more than one
amplitude step away (jumps pair one to one) or agree in rate on both sweeps outright. An
excluded sweep fails only when its rates disagree and a jump beside it is not reproduced. The
onset (first amplitude with a spike in the step window) must also agree within one amplitude
step. "One step" is one position in the shared amplitude grid, whatever its spacing there.
A difference of a single spike in the step window is always accepted (a spike that straddles
the window edge); on the default 800 ms step that is 1.25 Hz, inside the 2 Hz tolerance, so
it only matters for short test protocols.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridge.config import Condition
from bridge.contracts import StageFileError
from bridge.contracts import read_fi_curve as read_stage_fi_curve
from bridge.io import provenance_sidecar, write_csv
from bridge.provenance import provenance
from hh_models.brian2_twin import Brian2StepResult, run_steps_brian2
from hh_models.params import HHParams, params_from_condition, step_protocol_from_config

LOG = logging.getLogger(__name__)

#: Columns of fi_curve.csv (bridge.contracts.FI_COLUMNS) this module reads.
FI_COLUMNS = ("amp_uA_cm2", "amp_nA", "spike_count", "rate_hz")
#: Amplitudes (uA/cm2) closer than this are the same grid point.
AMP_MATCH_TOL_uA_cm2 = 1e-6
SIMULATORS = ("neuron", "brian2")
CROSSCHECK_COLUMNS = (
    "amp_uA_cm2",
    "amp_nA",
    "neuron_spike_count",
    "brian2_spike_count",
    "neuron_rate_hz",
    "brian2_rate_hz",
    "rate_diff_hz",
    "excluded",
    "exclusion_reason",
    "ok",
)


#: Spikes by which the two step-window counts may differ whatever the rate tolerance.
EDGE_SPIKE_ALLOWANCE = 1


class CrosscheckError(RuntimeError):
    """NEURON and Brian2 disagree beyond the configured tolerance, or an input is malformed."""


@dataclass(frozen=True)
class RateJump:
    """A rate change of more than onset_jump_hz between sweeps ``index`` and ``index + 1``."""

    simulator: str
    index: int
    from_amp_uA_cm2: float
    to_amp_uA_cm2: float
    jump_hz: float
    matched: bool

    def describe(self) -> str:
        return (
            f"{self.simulator} rate jump {self.from_amp_uA_cm2:g} -> {self.to_amp_uA_cm2:g} "
            f"uA/cm2 ({self.jump_hz:+.2f} Hz)"
        )


@dataclass(frozen=True)
class CrosscheckSummary:
    """What the per-sweep table adds up to; onsets are null where a simulator never spikes."""

    n_sweeps: int
    n_excluded: int
    excluded_amps_uA_cm2: list[float]
    n_failed: int
    failed_amps_uA_cm2: list[float]
    #: largest |rate difference| over the sweeps that were not excluded (Hz)
    max_abs_rate_diff_hz: float
    neuron_onset_uA_cm2: float | None
    brian2_onset_uA_cm2: float | None
    #: grid positions between the two onsets; null when either onset is missing
    onset_step_difference: int | None
    onset_ok: bool
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_fi_frame(frame: pd.DataFrame, name: str, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CrosscheckError(f"{name}: missing column(s) {missing}")
    if frame.empty:
        raise CrosscheckError(f"{name}: no sweeps")
    for column in required:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if bad.size:
            raise CrosscheckError(
                f"{name}: row {int(bad[0])}, column '{column}': "
                f"{frame[column].iloc[bad[0]]!r} is not a finite number"
            )
    if not np.all(np.diff(frame["amp_uA_cm2"].to_numpy(dtype=float)) > 0):
        raise CrosscheckError(f"{name}: amp_uA_cm2 is not strictly ascending")


def find_rate_jumps(rate_hz: np.ndarray, onset_jump_hz: float) -> np.ndarray:
    """Indices i where |rate[i+1] - rate[i]| > onset_jump_hz."""
    return np.flatnonzero(np.abs(np.diff(np.asarray(rate_hz, dtype=float))) > onset_jump_hz)


def _first_spiking_index(spike_count: np.ndarray) -> int | None:
    spiking = np.flatnonzero(np.asarray(spike_count) > 0)
    return int(spiking[0]) if spiking.size else None


def _pair_jumps(
    jumps_n: np.ndarray, jumps_b: np.ndarray, sign_n: np.ndarray, sign_b: np.ndarray
) -> tuple[set[int], set[int]]:
    """Pair NEURON and Brian2 jumps one to one: same sign, at most one step apart.

    Same-position pairs first, then neighbours in grid order, so that one jump of one
    simulator can never vouch for two jumps of the other.
    """
    paired_n: set[int] = set()
    paired_b: set[int] = set()
    for max_offset in (0, 1):
        for i in jumps_n:
            if i in paired_n:
                continue
            for j in jumps_b:
                if j in paired_b or abs(j - i) > max_offset or sign_b[j] != sign_n[i]:
                    continue
                paired_n.add(i)
                paired_b.add(j)
                break
    return paired_n, paired_b


def rate_jumps(
    neuron: pd.DataFrame, brian2: pd.DataFrame, rate_tolerance_hz: float, onset_jump_hz: float
) -> list[RateJump]:
    """Every rate jump of either simulator, with whether the other one reproduces it.

    A jump is reproduced when the other simulator makes a jump of the same sign at most one
    amplitude step away (each jump pairs with one jump only), or when the other simulator's
    rates on the jump's two sweeps agree within tolerance (a jump just below onset_jump_hz).
    """
    amps = neuron["amp_uA_cm2"].to_numpy(dtype=float)
    rate = {
        "neuron": neuron["rate_hz"].to_numpy(dtype=float),
        "brian2": brian2["rate_hz"].to_numpy(dtype=float),
    }
    jumps = {sim: [int(i) for i in find_rate_jumps(rate[sim], onset_jump_hz)] for sim in SIMULATORS}
    sign = {sim: np.sign(np.diff(rate[sim])) for sim in SIMULATORS}
    paired = dict(
        zip(
            SIMULATORS,
            _pair_jumps(jumps["neuron"], jumps["brian2"], sign["neuron"], sign["brian2"]),
            strict=True,
        )
    )
    found = []
    for sim, other in (("neuron", "brian2"), ("brian2", "neuron")):
        for i in jumps[sim]:
            both = slice(i, i + 2)
            agree = bool(np.all(np.abs(rate[other][both] - rate[sim][both]) <= rate_tolerance_hz))
            found.append(
                RateJump(
                    simulator=sim,
                    index=i,
                    from_amp_uA_cm2=float(amps[i]),
                    to_amp_uA_cm2=float(amps[i + 1]),
                    jump_hz=float(rate[sim][i + 1] - rate[sim][i]),
                    matched=i in paired[sim] or agree,
                )
            )
    return found


def compare_fi(
    neuron: pd.DataFrame,
    brian2: pd.DataFrame,
    rate_tolerance_hz: float,
    onset_jump_hz: float,
) -> pd.DataFrame:
    """Per-sweep agreement table of two f-I curves on the same amplitude grid.

    Both inputs need amp_uA_cm2, spike_count (step window) and rate_hz; amp_nA is taken from
    ``neuron``. rate_diff_hz is brian2 minus neuron. A sweep is ``ok`` when its rates agree
    within ``rate_tolerance_hz`` or, if it is excluded (next to a rate jump of more than
    ``onset_jump_hz``), when every jump it is next to is reproduced (see ``rate_jumps``).
    """
    if not rate_tolerance_hz > 0 or not onset_jump_hz > 0:
        raise ValueError(
            f"tolerances must be > 0: rate_tolerance_hz={rate_tolerance_hz}, "
            f"onset_jump_hz={onset_jump_hz}"
        )
    _check_fi_frame(neuron, "neuron f-I table", FI_COLUMNS)
    _check_fi_frame(brian2, "brian2 f-I table", FI_COLUMNS[:1] + FI_COLUMNS[2:])
    amps = neuron["amp_uA_cm2"].to_numpy(dtype=float)
    amps_b2 = brian2["amp_uA_cm2"].to_numpy(dtype=float)
    if amps.shape != amps_b2.shape or not np.allclose(
        amps, amps_b2, rtol=0.0, atol=AMP_MATCH_TOL_uA_cm2
    ):
        raise CrosscheckError(
            f"the two f-I tables have different amplitude grids ({amps.size} vs {amps_b2.size} "
            "sweeps, or different values)"
        )
    rate_n = neuron["rate_hz"].to_numpy(dtype=float)
    rate_b = brian2["rate_hz"].to_numpy(dtype=float)
    diff = rate_b - rate_n

    reasons: list[list[str]] = [[] for _ in amps]
    jump_ok = np.ones(amps.size, dtype=bool)
    for jump in rate_jumps(neuron, brian2, rate_tolerance_hz, onset_jump_hz):
        for k in (jump.index, jump.index + 1):
            reasons[k].append(
                "next to " + jump.describe() + ("" if jump.matched else ", not reproduced")
            )
            jump_ok[k] &= jump.matched
    excluded = np.array([bool(r) for r in reasons])
    count_diff = np.abs(
        brian2["spike_count"].to_numpy(dtype=int) - neuron["spike_count"].to_numpy(dtype=int)
    )
    ok = (
        (np.abs(diff) <= rate_tolerance_hz)
        | (count_diff <= EDGE_SPIKE_ALLOWANCE)
        | (excluded & jump_ok)
    )
    return pd.DataFrame(
        {
            "amp_uA_cm2": amps,
            "amp_nA": neuron["amp_nA"].to_numpy(dtype=float),
            "neuron_spike_count": neuron["spike_count"].to_numpy(dtype=int),
            "brian2_spike_count": brian2["spike_count"].to_numpy(dtype=int),
            "neuron_rate_hz": rate_n,
            "brian2_rate_hz": rate_b,
            "rate_diff_hz": diff,
            "excluded": excluded,
            "exclusion_reason": ["; ".join(r) for r in reasons],
            "ok": ok.astype(bool),
        },
        columns=list(CROSSCHECK_COLUMNS),
    )


def summarize(table: pd.DataFrame) -> CrosscheckSummary:
    """Onsets, exclusions and failures of a ``compare_fi`` table."""
    amps = table["amp_uA_cm2"].to_numpy(dtype=float)
    onset_n = _first_spiking_index(table["neuron_spike_count"].to_numpy())
    onset_b = _first_spiking_index(table["brian2_spike_count"].to_numpy())
    if onset_n is None or onset_b is None:
        step_difference = None
        onset_ok = onset_n is None and onset_b is None
    else:
        step_difference = abs(onset_n - onset_b)
        onset_ok = step_difference <= 1
    excluded = table["excluded"].to_numpy(dtype=bool)
    failed = ~table["ok"].to_numpy(dtype=bool)
    kept_diff = np.abs(table["rate_diff_hz"].to_numpy(dtype=float)[~excluded])
    return CrosscheckSummary(
        n_sweeps=int(amps.size),
        n_excluded=int(excluded.sum()),
        excluded_amps_uA_cm2=[float(a) for a in amps[excluded]],
        n_failed=int(failed.sum()),
        failed_amps_uA_cm2=[float(a) for a in amps[failed]],
        max_abs_rate_diff_hz=float(kept_diff.max()) if kept_diff.size else 0.0,
        neuron_onset_uA_cm2=None if onset_n is None else float(amps[onset_n]),
        brian2_onset_uA_cm2=None if onset_b is None else float(amps[onset_b]),
        onset_step_difference=step_difference,
        onset_ok=onset_ok,
        ok=bool(onset_ok and not failed.any()),
    )


def read_fi_curve(path: str | Path) -> pd.DataFrame:
    """Read NEURON's fi_curve.csv; a missing column or non-numeric cell names file and row."""
    path = Path(path)
    try:
        frame = read_stage_fi_curve(path, FI_COLUMNS)
    except StageFileError as err:
        raise CrosscheckError(str(err)) from None
    try:
        _check_fi_frame(frame, str(path), FI_COLUMNS)
    except CrosscheckError as err:
        # Rows as an editor shows them: the header is line 1.
        raise CrosscheckError(f"{err} (data row 0 is line 2)") from None
    return frame


def brian2_fi_frame(
    result: Brian2StepResult, params: HHParams, delay_ms: float, duration_ms: float
) -> pd.DataFrame:
    """The Brian2 run as an f-I table with NEURON's columns (step-window counts and rates)."""
    counts = result.spike_counts(delay_ms, delay_ms + duration_ms)
    return pd.DataFrame(
        {
            "amp_uA_cm2": result.amp_uA_cm2,
            "amp_nA": params.density_to_nA(result.amp_uA_cm2),
            "spike_count": counts,
            "rate_hz": counts / (duration_ms / 1000.0),
        }
    )


def failed_table_path(out_csv: str | Path) -> Path:
    """Where the table of a failed cross-check goes: crosscheck.csv -> crosscheck_failed.csv."""
    out_csv = Path(out_csv)
    return out_csv.with_name(out_csv.stem + "_failed" + out_csv.suffix)


def _remove_table(path: Path) -> None:
    for stale in (path, provenance_sidecar(path)):
        stale.unlink(missing_ok=True)


def run_crosscheck(
    condition: Condition,
    hh_cfg: dict[str, Any],
    neuron_fi_csv: str | Path,
    out_csv: str | Path,
) -> pd.DataFrame:
    """Run the Brian2 twin on NEURON's amplitude grid and write the agreement table.

    On agreement writes ``out_csv`` (+ provenance sidecar). On disagreement writes
    ``crosscheck_failed.csv`` beside it instead, leaves no ``out_csv`` and raises
    CrosscheckError naming the condition and the failing sweeps.
    """
    out_csv = Path(out_csv)
    b2_cfg = hh_cfg["brian2"]
    protocol = step_protocol_from_config(hh_cfg)
    neuron = read_fi_curve(neuron_fi_csv)
    grid = np.asarray(protocol.amps_uA_cm2, dtype=float)
    amps = neuron["amp_uA_cm2"].to_numpy(dtype=float)
    if amps.shape != grid.shape or not np.allclose(amps, grid, rtol=0.0, atol=AMP_MATCH_TOL_uA_cm2):
        raise CrosscheckError(
            f"{neuron_fi_csv}: amplitudes ({amps.size} rows) are not the configured grid "
            f"hh.steps.amp_segments_uA_cm2 ({grid.size} amplitudes); rerun the NEURON stage"
        )
    params = params_from_condition(condition, hh_cfg)
    result = run_steps_brian2(
        params,
        protocol,
        threshold_mV=float(hh_cfg["spike_threshold_mV"]),
        dt_ms=float(b2_cfg["dt_ms"]),
        codegen_target=str(b2_cfg["codegen_target"]),
    )
    brian2 = brian2_fi_frame(result, params, protocol.delay_ms, protocol.duration_ms)
    table = compare_fi(
        neuron,
        brian2,
        rate_tolerance_hz=float(b2_cfg["rate_tolerance_hz"]),
        onset_jump_hz=float(b2_cfg["onset_jump_hz"]),
    )
    summary = summarize(table)
    for row in table.loc[table["excluded"]].itertuples():
        LOG.info(
            "%s: sweep %g uA/cm2 excluded from the rate test (%s); neuron %.2f Hz, brian2 %.2f Hz",
            condition.name,
            row.amp_uA_cm2,
            row.exclusion_reason,
            row.neuron_rate_hz,
            row.brian2_rate_hz,
        )
    LOG.info(
        "%s: %d sweeps, %d excluded, %d failed; max |rate diff| %.2f Hz (tolerance %g Hz); "
        "onset neuron %s, brian2 %s uA/cm2",
        condition.name,
        summary.n_sweeps,
        summary.n_excluded,
        summary.n_failed,
        summary.max_abs_rate_diff_hz,
        b2_cfg["rate_tolerance_hz"],
        summary.neuron_onset_uA_cm2,
        summary.brian2_onset_uA_cm2,
    )
    prov = {
        **provenance({"condition": condition.to_dict(), "hh": hh_cfg}),
        "condition": condition.name,
        "brian2": {"codegen_target_used": result.codegen_target, "dt_ms": result.dt_ms},
        "crosscheck": summary.to_dict(),
    }
    failed_csv = failed_table_path(out_csv)
    if not summary.ok:
        write_csv(failed_csv, table, prov)
        _remove_table(out_csv)
        failing = table.loc[~table["ok"]]
        lines = [
            f"  {r.amp_uA_cm2:g} uA/cm2: neuron {r.neuron_rate_hz:.2f} Hz, "
            f"brian2 {r.brian2_rate_hz:.2f} Hz" + (f" ({r.exclusion_reason})" if r.excluded else "")
            for r in failing.itertuples()
        ]
        if not summary.onset_ok:
            lines.append(
                f"  onset: neuron {summary.neuron_onset_uA_cm2}, brian2 "
                f"{summary.brian2_onset_uA_cm2} uA/cm2 (more than one amplitude step apart)"
            )
        raise CrosscheckError(
            f"condition '{condition.name}': NEURON and Brian2 disagree beyond "
            f"{b2_cfg['rate_tolerance_hz']} Hz (table: {failed_csv}):\n" + "\n".join(lines)
        )
    write_csv(out_csv, table, prov)
    _remove_table(failed_csv)
    return table
