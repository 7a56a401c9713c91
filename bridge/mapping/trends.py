"""Across conditions: do the analytic (label) beta and the fitted beta move the same way?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

TREND_RULE = (
    "all pairs of usable conditions (use_downstream true); a pair is concordant when "
    "beta_analytic and beta_fit change in the same direction, discordant when opposite, tied "
    "when either does not change; same_direction = no discordant and >= 1 concordant pair "
    "(null with fewer than two usable conditions)"
)


def beta_trend_agreement(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Compare beta_analytic and beta_fit across LIF results (``LifFitResult.to_dict()``)."""
    usable = [r for r in records if r["use_downstream"]]
    skipped = {str(r["condition"]): str(r["status"]) for r in records if not r["use_downstream"]}
    counts = {"concordant": 0, "discordant": 0, "tied": 0}
    pairs = []
    for a, b in combinations(usable, 2):
        d_analytic = b["beta_analytic"] - a["beta_analytic"]
        d_fit = b["beta_fit"] - a["beta_fit"]
        product = d_analytic * d_fit
        kind = "tied" if product == 0 else ("concordant" if product > 0 else "discordant")
        counts[kind] += 1
        pairs.append({"conditions": [a["condition"], b["condition"]], "kind": kind})
    same = None
    if len(usable) >= 2:
        same = counts["discordant"] == 0 and counts["concordant"] > 0
    return {
        "same_direction": same,
        "concordant_pairs": counts["concordant"],
        "discordant_pairs": counts["discordant"],
        "tied_pairs": counts["tied"],
        "pairs": pairs,
        "n_conditions_used": len(usable),
        "skipped": skipped,
        "rule": TREND_RULE,
    }
