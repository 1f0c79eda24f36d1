"""A fully armed live setup against the fake venue, and ways to take one key away."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from livegate.cli.arm_cmd import create_token_file
from livegate.config.live_models import run_overrides
from livegate.config.loader import load_config
from livegate.domain.clock import Clock, WallClock
from livegate.domain.enums import Mode
from livegate.domain.market import Quote, Trade
from livegate.ops.preflight import PreflightInputs, run_preflight, write_artifact
from livegate.venues.base import VenueAdapter
from livegate.venues.fake import FakeFaults, FakeVenue, fake_instruments, sample_events
from livegate.venues.registry import AdapterFactory, VenueRequest
from tests.integration.helpers import TEST_SESSION_ENV, base_env

BOGUS_KEY = "BOGUSKEY-7f3a9c11d2e4"
BOGUS_SECRET = "BOGUSSECRET-c0ffee42beef"

PROFILE = """
seed = 7

[venue]
name = "fake:demo"
symbols = ["BTCUSDT"]

[strategy]
spec = "livegate.strategy.examples.market_maker:MarketMaker"

[strategy.params]
requote_interval_ms = 0
quantity = "0.002"

[risk]
max_order_notional_usd = 1000
max_symbol_notional_usd = 5000
max_gross_notional_usd = 5000
max_daily_turnover_usd = 100000
daily_loss_limit_usd = 500

[canary]
size_multiplier = 0.5
live_fraction = 0.5
max_live_notional_usd_per_day = 100000
"""


@functools.cache
def small_stream() -> tuple[Quote | Trade, ...]:
    """Return the first 1,500 events of the bundled sample (about 6 s of BTCUSDT)."""
    return tuple(sample_events(1500))


@dataclass
class FakeFactory:
    """An adapter factory that remembers every fake it built (tests read their orders)."""

    sandbox_supported: bool = True
    server_time_offset_ms: int = 0
    reachable: bool = True
    faults: FakeFaults = field(default_factory=FakeFaults)
    venue_class: type[FakeVenue] = FakeVenue
    built: list[FakeVenue] = field(default_factory=list)

    def __call__(self, request: VenueRequest) -> VenueAdapter:
        venue = self.venue_class(
            request.venue,
            fake_instruments(request.venue),
            small_stream(),
            request.clock,
            credentials=request.credentials,
            sandbox=request.sandbox,
            sandbox_supported=self.sandbox_supported,
            server_time_offset_ms=self.server_time_offset_ms,
            reachable=self.reachable,
            faults=self.faults,
        )
        self.built.append(venue)
        return venue

    @property
    def factories(self) -> Mapping[str, AdapterFactory]:
        return {"fake": self}


@dataclass
class LiveSetup:
    """Paths and environment of an armed machine."""

    root: Path
    profile: Path
    state_dir: Path
    env: dict[str, str]
    factory: FakeFactory


def write_profile(root: Path, text: str = PROFILE) -> Path:
    path = root / "live.toml"
    path.write_text(text, encoding="utf-8")
    return path


def armed_setup(
    root: Path, *, mode: Mode = Mode.LIVE, profile_text: str = PROFILE, factory: FakeFactory | None = None
) -> LiveSetup:
    """Arm a machine for ``mode``: state dir + token, env keys, credentials, caps, fresh preflight."""
    state = root / "state"
    token_file = create_token_file(state, force=False)
    profile = write_profile(root, profile_text)
    env = {
        "LIVEGATE_STATE_DIR": str(state),
        "LIVEGATE_LIVE_ENABLE": "1",
        "LIVEGATE_LIVE_CONFIRM_TOKEN": token_file.read_text(encoding="utf-8").strip(),
        "LIVEGATE_FAKE_API_KEY": BOGUS_KEY,
        "LIVEGATE_FAKE_API_SECRET": BOGUS_SECRET,
        **TEST_SESSION_ENV,  # the CLI processes get it too (subprocess_env): one config hash for both
    }
    setup = LiveSetup(root=root, profile=profile, state_dir=state, env=env, factory=factory or FakeFactory())
    run_preflight_for(setup, mode)
    return setup


def run_preflight_for(setup: LiveSetup, mode: Mode, *, clock: Clock | None = None) -> None:
    """Run the preflight of ``setup`` for ``mode`` and write its artifact."""
    resolved = load_config(str(setup.profile), setup.env, run_overrides())
    inputs = PreflightInputs(
        resolved=resolved,
        mode=mode,
        env=setup.env,
        state_dir=setup.state_dir,
        runs_root=setup.root / "runs",
        factories=FakeFactory().factories,
        clock=clock or WallClock(),
    )
    artifact = asyncio.run(run_preflight(inputs))
    assert artifact.passed, [c.line() for c in artifact.checks if c.status == "FAIL"]
    assert write_artifact(setup.state_dir, artifact) is not None


def subprocess_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Return a clean environment for the CLI: no inherited LIVEGATE_* variables."""
    base = base_env()
    return {**base, **extra}
