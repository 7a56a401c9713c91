"""CPU seconds per fit of the mapping stage, each fit kind of one condition.

    .venv/bin/python bench/bench_mapping.py [--condition intermediate] [--hh results/hh]
        [--config config/config.yaml config/quick.yaml] [--threads 1] [--compare]
        [--json OUT]

The fits the two mapping rules run, on the HH stage's outputs of a finished run:

* ``mapping_reference`` on ``mapping.reference_condition``: ``lif_reference`` (beta, bias and
  the input gain w) and ``mtc_reference`` (a_slow_pos, input scale and offset);
* ``mapping_condition`` on ``--condition``, with the reference's gains held: ``lif_condition``,
  ``mtc_condition``, then the held-out validation of the mapped models (``validation``) and
  the timing-optimised LIF's grid search (``timing_fit``).

Each is timed with ``time.process_time`` (CPU seconds, the figure quoted: other load on the
machine barely moves it) and ``time.perf_counter`` (wall). ``--compare`` runs the MTC and LIF
fits twice more per round, round-robin in this process: with the search as it was before the
batching change (``BEFORE``: MTC chunks of 2048 elements, every requested row simulated) and
as it is; the fitted results (every field of the fit's JSON) must be identical.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bridge import QUICK_CONFIG_FILES  # noqa: E402
from bridge.config import MappingConfig, load_config  # noqa: E402
from bridge.contracts import read_fi_curve, read_hh_summary  # noqa: E402
from bridge.io import write_json  # noqa: E402
from bridge.mapping import mtc, search  # noqa: E402
from bridge.mapping.lif import fit_lif_condition, fit_reference  # noqa: E402
from bridge.mapping.objective import step_window_from_config  # noqa: E402
from bridge.mapping.timing_fit import timing_optimised_lif  # noqa: E402
from bridge.mapping.validation import read_validation, validate_condition  # noqa: E402
from bridge.provenance import provenance  # noqa: E402

#: The search settings before the batching change (issue 13): MTC chunk and row reuse.
BEFORE = {"mtc_chunk_elements": 2048, "reuse_evaluations": False}
KB_PER_MB = 1024.0


@contextmanager
def search_settings(mtc_chunk_elements: int, reuse_evaluations: bool) -> Iterator[None]:
    """Run the fits with these search settings; restore the module's own afterwards."""
    saved = (mtc.MTC_CHUNK_ELEMENTS, search.FitProblem.reuse_evaluations)
    mtc.MTC_CHUNK_ELEMENTS = mtc_chunk_elements
    search.FitProblem.reuse_evaluations = reuse_evaluations
    try:
        yield
    finally:
        mtc.MTC_CHUNK_ELEMENTS, search.FitProblem.reuse_evaluations = saved


def current_settings() -> dict[str, Any]:
    return {
        "mtc_chunk_elements": mtc.MTC_CHUNK_ELEMENTS,
        "reuse_evaluations": search.FitProblem.reuse_evaluations,
    }


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(CPU s, wall s, result) of one call."""
    c0, w0 = time.process_time(), time.perf_counter()
    result = fn()
    return time.process_time() - c0, time.perf_counter() - w0, result


def _hh(hh_dir: Path, condition: str) -> tuple[Any, dict[str, Any]]:
    folder = hh_dir / condition
    fi = read_fi_curve(folder / "fi_curve.csv", columns=())
    return fi, read_hh_summary(folder / "summary.json").to_dict()


def _fit_record(result: Any) -> str:
    """A fit's JSON (sorted), for the identity check."""
    record = result.result.to_dict() if hasattr(result, "result") else result.to_dict()
    return json.dumps(record, sort_keys=True, default=str)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        nargs="+",
        default=[str(path) for path in QUICK_CONFIG_FILES],
    )
    parser.add_argument("--hh", type=Path, default=REPO_ROOT / "results" / "hh")
    parser.add_argument("--condition", default="intermediate")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--compare", action="store_true", help="also time the BEFORE settings")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of --compare")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = load_config(args.config)
    settings = MappingConfig.from_config(config["mapping"], "mapping")
    window = step_window_from_config(config)
    ref_fi, ref_summary = _hh(args.hh, settings.reference_condition)
    fi, summary = _hh(args.hh, args.condition)
    data = read_validation(args.hh / args.condition / "validation.npz")

    fits: dict[str, Callable[[], Any]] = {
        "lif_reference": lambda: fit_reference(ref_fi, ref_summary, settings, window=window),
        "mtc_reference": lambda: mtc.fit_mtc_reference(
            ref_fi, ref_summary, settings, window=window
        ),
    }
    reference: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []

    def record(kind: str, label: str, cpu: float, wall: float, result: Any) -> None:
        problem_rows = getattr(result, "n_evaluations", None)
        if problem_rows is None and hasattr(result, "result"):
            problem_rows = result.result.n_evaluations
        rows.append(
            {"kind": kind, "settings": label, "cpu_s": cpu, "wall_s": wall, "rows": problem_rows}
        )

    print(f"config: {' + '.join(args.config)}; torch threads {args.threads}; condition "
          f"{args.condition} (reference {settings.reference_condition})")  # fmt: skip
    # the reference fits first: the condition fits hold their gains
    for kind, fn in fits.items():
        cpu, wall, result = timed(fn)
        reference[kind] = result
        record(kind, "current", cpu, wall, result)
    w = reference["lif_reference"].w_per_nA
    mtc_map = mtc.MtcInputMap.from_reference(
        reference["mtc_reference"].to_dict(), settings.reference_condition
    )
    fits["lif_condition"] = lambda: fit_lif_condition(fi, summary, settings, w, window=window)
    fits["mtc_condition"] = lambda: mtc.fit_mtc_condition(
        fi, summary, settings, mtc_map, window=window
    )
    results: dict[str, Any] = dict(reference)
    for kind in ("lif_condition", "mtc_condition"):
        cpu, wall, results[kind] = timed(fits[kind])
        record(kind, "current", cpu, wall, results[kind])
    payload = {**results["lif_condition"].to_dict(), "mtc": results["mtc_condition"].to_dict()}
    val = settings.validation
    cpu, wall, _ = timed(
        lambda: validate_condition(payload, data, val, settings.dt_ms, settings.mtc_time_unit_ms)
    )
    record("validation", "current", cpu, wall, None)
    cpu, wall, timing = timed(lambda: timing_optimised_lif(data, val, settings.dt_ms))
    rows.append(
        {
            "kind": "timing_fit",
            "settings": "current",
            "cpu_s": cpu,
            "wall_s": wall,
            "rows": timing.get("grid_sets"),
        }
    )

    identical: dict[str, bool] = {}
    if args.compare:
        now = current_settings()
        for _ in range(args.rounds):
            for kind, fn in fits.items():
                with search_settings(**BEFORE):
                    cpu_b, wall_b, before = timed(fn)
                record(kind, "before", cpu_b, wall_b, before)
                with search_settings(**now):
                    cpu_a, wall_a, after = timed(fn)
                record(kind, "current", cpu_a, wall_a, after)
                same = _fit_record(before) == _fit_record(after) == _fit_record(results[kind])
                identical[kind] = identical.get(kind, True) and same

    print(f"\n{'fit':16} {'settings':9} {'runs':>4} {'CPU s':>8} {'wall s':>8} {'rows':>6}")
    summary_rows = []
    for kind in (*fits, "validation", "timing_fit"):
        for label in ("before", "current"):
            mine = [r for r in rows if r["kind"] == kind and r["settings"] == label]
            if not mine:
                continue
            cpu = statistics.median(r["cpu_s"] for r in mine)
            wall = statistics.median(r["wall_s"] for r in mine)
            summary_rows.append({"kind": kind, "settings": label, "cpu_s": cpu, "wall_s": wall})
            print(f"{kind:16} {label:9} {len(mine):>4} {cpu:>8.1f} {wall:>8.1f} "
                  f"{mine[0]['rows'] if mine[0]['rows'] is not None else '-':>6}")  # fmt: skip
    ratios = {}
    if args.compare:
        print("\nbefore / current CPU s (median over rounds), fitted results identical:")
        by = {(r["kind"], r["settings"]): r["cpu_s"] for r in summary_rows}
        for kind in fits:
            ratios[kind] = by[(kind, "before")] / by[(kind, "current")]
            print(f"  {kind:16} {ratios[kind]:5.2f}x  identical {identical[kind]}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KB_PER_MB
    print(f"peak RSS {peak_mb:.0f} MB; settings now {current_settings()}, before {BEFORE}")
    if args.json is not None:
        write_json(
            args.json,
            {
                "runs": rows,
                "summary": summary_rows,
                "ratios_before_over_current": ratios,
                "identical": identical,
                "settings": current_settings(),
                "before": BEFORE,
                "threads": args.threads,
                "peak_rss_mb": peak_mb,
                "provenance": provenance({"bench": {k: str(v) for k, v in vars(args).items()}}),
            },
        )
        print(f"wrote {args.json}")
    return 0 if all(identical.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
