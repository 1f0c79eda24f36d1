"""The API's small parts: [http] config, the token file, redaction, the status page's HTML."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from rich.console import Console

from livegate.api.auth import BearerToken, create_http_token, http_token_path, load_http_token
from livegate.api.page import render_status_page
from livegate.api.redact import REDACTED, redact
from livegate.cli.watch_cmd import STALE_AFTER_MS, render
from livegate.config.http_models import HttpConfig, is_loopback, split_bind
from livegate.config.loader import load_config
from livegate.domain.errors import ConfigError


def test_http_config_when_loopback_bind_then_enabled_and_default_off() -> None:
    assert not HttpConfig().enabled
    cfg = HttpConfig(bind="127.0.0.1:9898")
    assert cfg.enabled and split_bind(cfg.bind) == ("127.0.0.1", 9898)
    assert split_bind("[::1]:9898") == ("::1", 9898)
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("::1")


def test_http_config_when_remote_bind_without_allow_remote_then_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="allow_remote"):
        load_config(None, {"LIVEGATE_HTTP__BIND": "0.0.0.0:9898"})
    allowed = load_config(None, {"LIVEGATE_HTTP__BIND": "0.0.0.0:9898", "LIVEGATE_HTTP__ALLOW_REMOTE": "true"})
    assert allowed.config.http.bind == "0.0.0.0:9898"


@pytest.mark.parametrize("bind", ["9898", "127.0.0.1", "127.0.0.1:port", "127.0.0.1:70000"])
def test_http_config_when_bind_malformed_then_refused(bind: str) -> None:
    with pytest.raises(ConfigError, match=r"http\.bind"):
        load_config(None, {"LIVEGATE_HTTP__BIND": bind})


def test_config_hash_when_http_section_changes_then_hash_unchanged() -> None:
    plain = load_config(None, {})
    served = load_config(None, {"LIVEGATE_HTTP__BIND": "127.0.0.1:9898"})
    assert plain.config_hash == served.config_hash
    assert served.sources["http.bind"] == "env:LIVEGATE_HTTP__BIND"


def test_token_file_when_created_then_0600_random_and_refused_when_readable_by_others(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = create_http_token(state, force=False)
    assert path == http_token_path(state)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    assert len(token) >= 43
    with pytest.raises(FileExistsError):
        create_http_token(state, force=False)
    loaded = load_http_token(state)
    assert loaded.matches(f"Bearer {token}") and loaded.matches(f"bearer {token}")
    assert not loaded.matches(None) and not loaded.matches(token) and not loaded.matches(f"Bearer {token}x")
    assert token not in repr(loaded)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="must be 0600"):
        load_http_token(state)
    rotated = create_http_token(state, force=True)
    assert rotated.read_text().strip() != token


def test_token_file_when_missing_then_error_names_the_init_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="livegate http token init"):
        load_http_token(tmp_path)


def test_bearer_token_when_header_malformed_then_no_match() -> None:
    token = BearerToken("abc")
    assert not token.matches("Basic abc") and not token.matches("Bearer") and not token.matches("")


def test_redact_when_secret_keys_and_url_credentials_then_replaced() -> None:
    data = {
        "venue": {"ccxt_options": {"apiKey": "K123", "secret": "S456", "timeout": 5}},
        "alerts": {"urls": ["slack://tokenA/tokenB"], "min_severity": "WARN"},
        "proxy": "https://user:pw@proxy.example/x",
        "token": "",
    }
    shown = redact(data)
    text = repr(shown)
    for secret in ("K123", "S456", "tokenA", "user:pw"):
        assert secret not in text
    assert shown["venue"]["ccxt_options"]["timeout"] == 5
    assert shown["alerts"]["urls"] == REDACTED and shown["alerts"]["min_severity"] == "WARN"
    assert shown["proxy"] == f"https://{REDACTED}@proxy.example/x"


def _status(state: str, reason: str) -> dict[str, object]:
    return {
        "schema_version": 1,
        "written_wall_ms": 0,
        "running": True,
        "session": {"session_id": "s1", "mode": "paper", "run_dir": "/r", "symbols": ["BTCUSDT"], "venues": ["paper"]},
        "trading_state": {"state": state, "reason": reason, "source": "http:kill", "actor": "", "since_wall_ms": 1},
        "ready": {"ready": False, "reasons": ["BTCUSDT: no quote yet"]},
        "health": {"healthy": True, "reasons": [], "last_tick_age_secs": 0.1, "loop_lag_secs": 0.0},
        "positions": [
            {"symbol": "BTCUSDT", "quantity": "0.002", "average_price": "61000", "mark_price": "61010",
             "notional_usd": "122.02", "realized_pnl_usd": "0", "unrealized_pnl_usd": "0.02", "fees_usd": "0.06"}
        ],
        "open_orders_count": 0,
        "open_orders": [],
        "pnl": {"realized_usd": "0", "unrealized_usd": "0.02", "fees_usd": "0.06", "total_usd": "-0.04",
                "daily_usd": "0", "drawdown_usd": "0", "session_max_drawdown_usd": "0"},
        "caps": [
            {"name": "max_gross_notional_usd", "used": "122.02", "limit": "1000", "unit": "USD", "used_pct": 12.2}
        ],
        "venues": [{"venue": "binanceusdm", "health": "healthy", "reason": ""}],
        "quotes": [{"symbol": "BTCUSDT", "bid": "61010", "ask": "61010.1", "age_ms": 5}],
        "counts": {"quotes": 1},
        "anomalies": [{"kind": "stream_interrupted", "detail": "<script>alert(1)</script>"}],
        "alerts": None,
    }  # fmt: skip


def test_status_page_when_halted_then_banner_names_state_and_reason_and_escapes_text() -> None:
    html = render_status_page(_status("halted", "operator <b>kill</b>"))
    assert '<header class="halted" id="trading-state"><h1>HALTED</h1>' in html
    assert "operator &lt;b&gt;kill&lt;/b&gt;" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'http-equiv="refresh" content="1"' in html
    assert "http://" not in html and "https://" not in html  # self-contained: nothing loaded from elsewhere
    assert "BTCUSDT" in html and "0.002" in html


def _watch_text(status: dict[str, object], now_ms: int) -> str:
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(render(status, now_ms))
    return console.export_text()


def test_watch_render_when_reducing_then_first_line_names_state_reason_and_source() -> None:
    text = _watch_text(_status("reducing", "stale_feed: quote 12 s old"), now_ms=500)
    first = next(line for line in text.splitlines() if "REDUCING" in line)
    assert "stale_feed: quote 12 s old" in first and "http:kill" in first
    assert "not ready: BTCUSDT: no quote yet" in text and "STALE" not in text


def test_watch_render_when_snapshot_old_while_running_then_flagged_stale() -> None:
    text = _watch_text(_status("active", ""), now_ms=STALE_AFTER_MS + 1500)
    assert "STALE: snapshot 4.5 s old" in text
