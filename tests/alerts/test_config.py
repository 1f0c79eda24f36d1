from __future__ import annotations

import json

import pytest

from livegate.config.alerts_models import AlertsConfig, redact_url
from livegate.config.loader import load_config
from livegate.domain.errors import ConfigError


def test_alerts_config_when_set_from_env_then_urls_and_windows_apply_with_their_source() -> None:
    env = {
        "LIVEGATE_ALERTS__URLS": '["ntfy://127.0.0.1:8080/ops"]',
        "LIVEGATE_ALERTS__CRIT_URLS": '["slack://TA/TB/TC"]',
        "LIVEGATE_ALERTS__THROTTLE_SECS": "30",
    }
    resolved = load_config(None, env)
    alerts = resolved.config.alerts
    assert alerts.urls == ["ntfy://127.0.0.1:8080/ops"]
    assert alerts.crit_urls == ["slack://TA/TB/TC"]
    assert alerts.throttle_secs == 30
    assert resolved.sources["alerts.crit_urls"] == "env:LIVEGATE_ALERTS__CRIT_URLS"


def test_alerts_config_when_url_has_no_scheme_then_error_names_the_key_and_hides_the_url() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, {"LIVEGATE_ALERTS__WARN_URLS": '["hooks.slack.com/services/T/B/SECRETTOKEN"]'})
    assert "alerts.warn_urls" in str(err.value)
    assert "SECRETTOKEN" not in str(err.value)


def test_alerts_config_when_unknown_key_then_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'alerts\.url'"):
        load_config(None, {"LIVEGATE_ALERTS__URL": "x"})


def test_resolved_record_when_alert_urls_hold_tokens_then_redacted_and_hash_unchanged() -> None:
    plain = load_config(None, {})
    secret = load_config(None, {"LIVEGATE_ALERTS__URLS": '["slack://TOKENA/TOKENB/TOKENC", "ntfy://u:pw@h.example/t"]'})
    text = json.dumps(secret.to_record())
    assert "TOKENA" not in text and "pw@" not in text
    assert secret.to_record()["config"]["alerts"]["urls"] == ["slack://***", "ntfy://***"]
    assert secret.config_hash == plain.config_hash  # alerts never change the session id or ledger hash


def test_redact_url_when_host_is_an_address_then_host_kept_and_path_hidden() -> None:
    assert redact_url("ntfy://127.0.0.1:8080/topic") == "ntfy://127.0.0.1:8080/***"
    assert redact_url("json://localhost/x?token=1") == "json://localhost/***"
    assert redact_url("tgram://123456:ABCDEF/chat") == "tgram://***"  # a bot token is not an address
    assert redact_url("discord://1234/SECRET") == "discord://***"
    assert redact_url("mailto://user:pw@mail.example.com") == "mailto://***"


def test_alerts_config_when_slack_webhook_url_not_http_then_refused() -> None:
    with pytest.raises(ValueError, match="slack_webhook_url"):
        AlertsConfig(slack_webhook_url="ftp://x")
