"""Mode resolution (docs/architecture.md §3.2) and the market-hours skip of the live loop."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.modes.market_hours import AlwaysOpen, CalendarHours, market_hours_for
from livegate.modes.resolve import gate_line, resolve_mode
from livegate.runtime.live_session import LiveOptions
from livegate.runtime.session import RunOptions
from livegate.runtime.start import start
from tests.modes.live_helpers import FakeFactory, write_profile

SATURDAY_NOON_UTC_MS = 1_723_291_200_000  # 2024-08-10 12:00 UTC
THURSDAY_1500_UTC_MS = 1_723_129_200_000  # 2024-08-08 15:00 UTC (NYSE open)


@pytest.mark.parametrize(
    ("cli", "env", "profile", "real", "expected"),
    [
        ("live", {"LIVEGATE_MODE": "paper"}, "shadow", True, (Mode.LIVE, "cli")),
        (None, {"LIVEGATE_MODE": "Canary"}, "shadow", True, (Mode.CANARY, "env")),
        (None, {}, "testnet", False, (Mode.TESTNET, "profile")),
        (None, {}, None, True, (Mode.SHADOW, "default")),
        (None, {}, None, False, (Mode.PAPER, "default")),
    ],
)
def test_resolve_mode_when_sources_compete_then_precedence_cli_env_profile_default(
    cli: str | None, env: dict[str, str], profile: str | None, real: bool, expected: tuple[Mode, str]
) -> None:
    got = resolve_mode(cli, env, profile, real_venue_configured=real)
    assert (got.mode, got.source) == expected


def test_resolve_mode_when_unknown_then_config_error_names_source() -> None:
    with pytest.raises(ConfigError, match="from env"):
        resolve_mode(None, {"LIVEGATE_MODE": "yolo"}, None, real_venue_configured=False)


def test_gate_line_when_reason_has_newlines_then_one_line() -> None:
    line = gate_line(Mode.LIVE, "FAIL", "a\nb", "cli")
    assert line == "gate mode=live status=FAIL reason=a b source=cli"


def test_market_hours_when_calendar_named_then_open_and_closed_by_minute() -> None:
    hours = market_hours_for("XNYS")
    assert isinstance(hours, CalendarHours)
    assert hours.is_open(THURSDAY_1500_UTC_MS)
    assert not hours.is_open(SATURDAY_NOON_UTC_MS)
    assert isinstance(market_hours_for(""), AlwaysOpen)
    assert isinstance(market_hours_for("XNYS", ignore=True), AlwaysOpen)
    with pytest.raises(ConfigError):
        market_hours_for("NOT-A-CALENDAR")


class FixedClock:
    def __init__(self, now_ms: int) -> None:
        self.value = now_ms

    def now_ms(self) -> int:
        return self.value


def run_shadow_on_calendar(tmp_path: Path, ignore: bool) -> tuple[dict[str, object], list[str]]:
    text = 'seed = 1\n[venue]\nname = "fake:demo"\ncalendar = "XNYS"\n[strategy.params]\nrequote_interval_ms = 0\n'
    profile = write_profile(tmp_path, text)
    factory = FakeFactory()
    options = RunOptions(profile=str(profile), out=tmp_path / ("ignore" if ignore else "closed"))
    result = start(
        options,
        LiveOptions(ignore_market_hours=ignore),
        {"LIVEGATE_STATE_DIR": str(tmp_path / "state")},
        clock=FixedClock(SATURDAY_NOON_UTC_MS),
        factories=factory.factories,
    )
    return result.summary, [v.name for v in factory.built]


def test_live_loop_when_market_closed_then_skips_cycles_and_places_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    summary, _ = run_shadow_on_calendar(tmp_path, ignore=False)
    assert summary["mode"] == "shadow"
    assert summary["intents"] == 0 and summary["orders_submitted"] == 0
    assert summary["quotes_processed"] > 0
    assert "market closed; skipping cycle" in [r.getMessage() for r in caplog.records]


def test_live_loop_when_ignore_market_hours_then_trades_while_closed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    summary, _ = run_shadow_on_calendar(tmp_path, ignore=True)
    assert summary["intents"] > 0
    assert "market closed; skipping cycle" not in [r.getMessage() for r in caplog.records]
