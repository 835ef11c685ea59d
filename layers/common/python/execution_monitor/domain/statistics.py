"""Per-workflow, per-action step-duration statistics: pure values, no I/O.

One `StepStats` summarises the completed attempts of one action of one workflow: a count and a
sum (the all-time mean), the extremes, and a window of the most recent durations ordered by when
they completed — the small sketch that p50/p90 and the typical duration come from. `typical_ms` is
what the ETA uses: the trimmed mean of that window. A mean, because a sum of remaining steps tends
to the sum of their means; trimmed, so one stalled call does not inflate the estimates after it.

Every field is a function of the *set* of folded attempts, not of the order they were folded in
(the window keeps the latest completions by completion time), so replays and reordering of stream
records leave the same statistics. That is also why there is no EWMA: it depends on fold order.
Values are integers (milliseconds) so they store as DynamoDB numbers without float rounding.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace

from execution_monitor.actions.definitions import ActionDefinition

WINDOW = 32  # recent attempts kept: about 2.5 KB per item, enough for a stable p90
TRIM_FRACTION = 0.1  # dropped from each end of the sorted window (at least one once there are 3)

Sample = tuple[str, int, str]  # (completedAt ISO-8601, duration ms, sample key: the step attempt)


def definition_hash(action: ActionDefinition) -> str:
    """Identifies what an action does (type and params): statistics of a changed action start over."""
    document = action.to_json_dict()
    canonical = json.dumps(
        {"type": document["type"], "params": document.get("params", {})},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def sample_key(execution_id: str, index: int, attempt: int) -> str:
    """Names one completed attempt of one step, so the same attempt is never folded in twice."""
    return f"{execution_id}#{index}#{attempt}"


def quantile(values: list[int], q: float) -> int | None:
    """Nearest-rank quantile (q in (0, 1]); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def trimmed_mean(values: list[int]) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    trim = max(1, int(len(ordered) * TRIM_FRACTION)) if len(ordered) >= 3 else 0
    kept = ordered[trim : len(ordered) - trim]
    return round(sum(kept) / len(kept))


@dataclass(frozen=True)
class StepStats:
    """Statistics of one workflow action; `version` is the stored item's (0: not stored yet)."""

    count: int = 0
    sum_ms: int = 0
    min_ms: int | None = None
    max_ms: int | None = None
    recent: tuple[Sample, ...] = ()
    definition_hash: str | None = None
    version: int = 0

    def has_sample(self, key: str) -> bool:
        return any(sample[2] == key for sample in self.recent)

    def add(self, completed_at: str, duration_ms: int, action_hash: str, key: str) -> StepStats:
        """The statistics with one more completed attempt (unchanged if that attempt is already in).

        An attempt of a different action definition that completed after everything in the window
        starts the statistics over (the action changed); an older one is ignored.
        """
        if self.has_sample(key):
            return self
        duration_ms = max(0, int(duration_ms))
        base = self
        if self.definition_hash not in (None, action_hash):
            newest = max((sample[0] for sample in self.recent), default="")
            if completed_at < newest:
                return self
            base = StepStats(version=self.version)
        window = tuple(sorted((*base.recent, (completed_at, duration_ms, key))))[-WINDOW:]
        return replace(
            base,
            count=base.count + 1,
            sum_ms=base.sum_ms + duration_ms,
            min_ms=duration_ms if base.min_ms is None else min(base.min_ms, duration_ms),
            max_ms=duration_ms if base.max_ms is None else max(base.max_ms, duration_ms),
            recent=window,
            definition_hash=action_hash,
        )

    @property
    def recent_ms(self) -> list[int]:
        return [sample[1] for sample in self.recent]

    @property
    def mean_ms(self) -> int | None:
        return round(self.sum_ms / self.count) if self.count else None

    @property
    def p50_ms(self) -> int | None:
        return quantile(self.recent_ms, 0.5)

    @property
    def p90_ms(self) -> int | None:
        return quantile(self.recent_ms, 0.9)

    @property
    def typical_ms(self) -> int | None:
        return trimmed_mean(self.recent_ms)

    def typical_for(self, action_hash: str) -> int | None:
        """The typical duration, only if these statistics describe this very action definition."""
        return self.typical_ms if self.definition_hash == action_hash else None
