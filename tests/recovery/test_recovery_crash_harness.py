"""The crash harness in CI: >= 20 SIGKILL trials covering every named point, 0 duplicated, 0 lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from livegate.testing.crash_harness import NAMED_POINTS, TrialResult, plan_trials, run_trial

TRIALS = 20


@pytest.mark.slow
def test_crash_harness_when_killed_at_every_named_point_then_nothing_lost_or_doubled(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quotes, trades, profile = recovery_data
    plans = plan_trials(TRIALS, seed=6, run_secs=0.4)

    def trial(i: int) -> TrialResult:
        return run_trial(tmp_path / f"trial{i:02d}", quotes=quotes, trades=trades, profile=profile, **plans[i])  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(trial, range(TRIALS)))

    problems = [f"{r.name}: {p}" for r in results for p in r.problems]
    assert problems == []
    assert sum(r.duplicates for r in results) == 0
    assert sum(r.lost for r in results) == 0
    crashed = {r.name.split(":")[0] for r in results if r.crashes}
    assert set(NAMED_POINTS) <= crashed
    assert all(r.crashes == 2 for r in results if r.name.startswith("cancel_all")), "cancel-all crash not reached"
    assert sum(1 for r in results if r.name.startswith("random") and r.crashes) >= 2
