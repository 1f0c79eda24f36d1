"""RunFacts.day keeps the last day's bounds: it must give the same day as a direct conversion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.ops.run_facts import RunFacts

# 2024-01-01 .. 2025-12-31 UTC, covering two DST changes a year in each zone below
_START_MS = 1_704_067_200_000
_END_MS = 1_767_225_600_000
#: New York changes at 02:00; Beirut and Santiago move their clocks at midnight (a skipped or repeated midnight).
_ZONES = ["UTC", "America/New_York", "Asia/Beirut", "America/Santiago", "Australia/Lord_Howe"]


def _direct(ts_ms: int, zone: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ts_ms / 1000, tz=zone).date().isoformat()


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(_ZONES),
    times=st.lists(st.integers(min_value=_START_MS, max_value=_END_MS), min_size=1, max_size=40),
    near=st.lists(st.integers(min_value=-3_600_000, max_value=3_600_000), min_size=1, max_size=40),
)
def test_day_when_asked_in_any_order_then_matches_the_direct_conversion(
    zone: str, times: list[int], near: list[int]
) -> None:
    tz = ZoneInfo(zone)
    facts = RunFacts(run_dir=Path("run"), day_zone=tz)
    asked = [t + d for t in times for d in near[:3]] + times
    for ts in asked:
        assert facts.day(ts) == _direct(ts, tz), (zone, ts)


def test_day_when_walking_across_dst_midnights_minute_by_minute_then_matches_the_direct_conversion() -> None:
    for zone in _ZONES:
        tz = ZoneInfo(zone)
        facts = RunFacts(run_dir=Path("run"), day_zone=tz)
        for start in (1_711_836_000_000, 1_729_980_000_000, 1_712_354_400_000, 1_725_148_800_000):
            for minute in range(-36 * 60, 36 * 60, 7):
                ts = start + minute * 60_000
                assert facts.day(ts) == _direct(ts, tz), (zone, ts)
