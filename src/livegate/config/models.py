"""Typed configuration (pydantic); every section refuses unknown keys.

Units are in the key names: ``_usd`` (USD; USDT is treated as USD), ``_bps`` (basis
points, 1/10,000), ``_ms``, ``_secs``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from livegate.config.alerts_models import AlertsConfig
from livegate.config.equities_models import AlpacaConfig, EquitiesConfig
from livegate.config.http_models import HttpConfig
from livegate.config.ibkr_models import IbkrVenueKeys
from livegate.config.live_models import CanaryConfig, LiveConfig
from livegate.config.reconcile_models import ReconcileConfig
from livegate.config.risk_models import KillConfig, RiskConfig, TripwireConfig
from livegate.config.session_models import SessionConfig, ShutdownConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class VenueConfig(_Section, IbkrVenueKeys):
    """Which venue the session trades on, and how to reach it.

    ``name`` is a venue name: ``binanceusdm`` / ``binance`` for replayed Binance data,
    or ``<adapter>:<venue>`` (e.g. ``ccxt:binanceusdm``) for a real venue.

    ``rest_url`` / ``ws_url`` replace the scheme and host (keeping the path) of every REST
    / websocket endpoint the adapter uses (a proxy, a regional endpoint, a test venue);
    env ``LIVEGATE_VENUE__REST_URL`` / ``LIVEGATE_VENUE__WS_URL``. ``timeout_ms`` is the
    request timeout (a slower answer is an ambiguous outcome). ``ccxt_options`` is a
    table deep-merged over ccxt's and livegate's exchange options. ``rate_weight_per_min``
    is the request budget in the venue's own weight units per minute (Binance: the
    ``REQUEST_WEIGHT`` limit, 6000 spot / 2400 USD-M); 0 = the adapter's default.
    ``host``, ``port``, ``client_id``, ``account``, ``market_data``: Interactive Brokers
    (:class:`~livegate.config.ibkr_models.IbkrVenueKeys`).
    """

    name: str = "binanceusdm"
    symbols: list[str] = Field(default_factory=list)
    calendar: str = ""
    rest_url: str = ""
    ws_url: str = ""
    timeout_ms: int = Field(default=10_000, gt=0, le=120_000)
    ccxt_options: dict[str, Any] = Field(default_factory=dict)
    rate_weight_per_min: int = Field(default=0, ge=0)

    @field_validator("rest_url", "ws_url")
    @classmethod
    def _base_url(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        schemes = ("http", "https") if info.field_name == "rest_url" else ("ws", "wss")
        if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(
                f"[venue] {info.field_name} must be {'|'.join(schemes)}://host[:port][/prefix], got {value!r}"
            )
        return value.rstrip("/")


class PaperConfig(_Section):
    """Paper venue fill model (docs/architecture.md §5)."""

    fill_mode: Literal["none", "marketable", "mid", "always"] = "marketable"
    maker_fee_bps: Decimal = Field(default=Decimal("2"), ge=0)
    taker_fee_bps: Decimal = Field(default=Decimal("5"), ge=0)
    slippage_bps: Decimal = Field(default=Decimal("0"), ge=0)
    touch_fill_probability: Decimal = Field(default=Decimal("0.5"), ge=0, le=1)
    starting_balance_usd: Decimal = Field(default=Decimal("100000"), gt=0)


class InstrumentConfig(_Section):
    """An instrument's exchange filters (tick and lot in quote/base units)."""

    tick_size: Decimal = Field(gt=0)
    lot_size: Decimal = Field(gt=0)
    min_notional: Decimal = Field(default=Decimal(0), ge=0)
    min_quantity: Decimal = Field(default=Decimal(0), ge=0)
    quote_currency: str = "USDT"
    base_currency: str = ""


class StrategyConfig(_Section):
    """Strategy selection and its free-form parameters (passed to the strategy's constructor).

    ``callback_timeout_ms`` bounds one strategy callback (``on_start``, ``on_quote``,
    ``on_trade``, ``on_fill``, ``on_stop``) in wall time: a callback still running after it
    is interrupted and the session halts (docs/risk.md, strategy watchdog).
    """

    spec: str = "livegate.strategy.examples.market_maker:MarketMaker"
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    callback_timeout_ms: int = Field(default=5000, gt=0)


class TelemetryConfig(_Section):
    """Telemetry cadence: a heartbeat line every ``heartbeat_interval_ms`` of event time."""

    heartbeat_interval_ms: int = Field(default=1000, gt=0)


class LedgerConfig(_Section):
    """Ledger durability: SQLite ``synchronous`` pragma (FULL fsyncs every commit)."""

    synchronous: Literal["FULL", "NORMAL"] = "FULL"


class ExecutionConfig(_Section):
    """How the execution engine treats orders of unknown outcome (docs/architecture.md §3.6).

    ``ambiguous_timeout_secs``: an order whose submit outcome is unknown (timeout, 5xx,
    Binance -1007, "Duplicate order sent.") stays in flight, counted against every cap,
    and is never resent; still unresolved this many seconds after its submit, it raises
    the anomaly ``ambiguous_unresolved`` (trading state REDUCING, alert). Default 60.
    """

    ambiguous_timeout_secs: float = Field(default=60.0, gt=0)


class LivegateConfig(_Section):
    """The whole resolved configuration of one run."""

    mode: Literal["shadow", "paper", "testnet", "canary", "live"] | None = None
    seed: int = 0
    venue: VenueConfig = Field(default_factory=VenueConfig)
    paper: PaperConfig = Field(default_factory=PaperConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    session: SessionConfig = Field(default_factory=SessionConfig)
    shutdown: ShutdownConfig = Field(default_factory=ShutdownConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    tripwires: TripwireConfig = Field(default_factory=TripwireConfig)
    kill: KillConfig = Field(default_factory=KillConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    canary: CanaryConfig = Field(default_factory=CanaryConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    instruments: dict[str, InstrumentConfig] = Field(default_factory=dict)
    equities: EquitiesConfig = Field(default_factory=EquitiesConfig)
    alpaca: AlpacaConfig = Field(default_factory=AlpacaConfig)

    @field_validator("instruments")
    @classmethod
    def _symbols_upper(cls, value: dict[str, InstrumentConfig]) -> dict[str, InstrumentConfig]:
        return {key.upper(): cfg for key, cfg in value.items()}
