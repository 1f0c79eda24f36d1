"""Credentials: env or 0600 file, only in real modes, never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from livegate.config.credentials import (
    Credentials,
    Secret,
    credential_env_var,
    credential_name,
    load_credentials,
    required_fields,
)
from livegate.domain.enums import Mode
from livegate.domain.errors import InvariantViolation

SECRET = "s3cr3t-value-9d8c"


@pytest.mark.parametrize("mode", [Mode.SHADOW, Mode.PAPER])
def test_load_credentials_when_mode_not_real_then_invariant_violation(mode: Mode) -> None:
    with pytest.raises(InvariantViolation):
        load_credentials("ccxt:kraken", {"LIVEGATE_KRAKEN_API_KEY": "k", "LIVEGATE_KRAKEN_API_SECRET": "s"}, mode=mode)


def test_credential_names_when_adapter_hosts_many_exchanges_then_per_exchange() -> None:
    assert credential_name("ccxt:binanceusdm") == "binanceusdm"
    assert credential_name("alpaca:us") == "alpaca"
    assert credential_name("fake:demo") == "fake"
    assert credential_env_var("ccxt:binanceusdm", "api_key") == "LIVEGATE_BINANCEUSDM_API_KEY"
    assert required_fields("ccxt:okx") == ("api_key", "api_secret", "api_passphrase")
    assert required_fields("ccxt:hyperliquid") == ("wallet_address", "private_key")
    assert required_fields("ibkr:paper") == ()


def test_load_credentials_when_env_complete_then_loaded_and_never_shown() -> None:
    env = {"LIVEGATE_KRAKEN_API_KEY": "key-abc", "LIVEGATE_KRAKEN_API_SECRET": SECRET}
    lookup = load_credentials("ccxt:kraken", env, mode=Mode.LIVE)
    assert lookup.ok and lookup.credentials is not None
    creds = lookup.credentials
    assert creds.reveal("api_secret") == SECRET
    for shown in (
        repr(creds),
        str(creds),
        f"{creds}",
        repr(creds.fields["api_secret"]),
        f"{creds.fields['api_secret']}",
    ):
        assert SECRET not in shown and "key-abc" not in shown


def test_load_credentials_when_passphrase_venue_lacks_it_then_missing_names_variable() -> None:
    env = {"LIVEGATE_OKX_API_KEY": "k", "LIVEGATE_OKX_API_SECRET": "s"}
    lookup = load_credentials("ccxt:okx", env, mode=Mode.CANARY)
    assert not lookup.ok
    assert lookup.missing == ["LIVEGATE_OKX_API_PASSPHRASE"]


def write_secrets(path: Path, mode: int) -> Path:
    path.write_text(f'[kraken]\napi_key = "file-key"\napi_secret = "{SECRET}"\n', encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_load_credentials_when_secrets_file_0600_then_used_and_env_wins(tmp_path: Path) -> None:
    path = write_secrets(tmp_path / "secrets.toml", 0o600)
    env = {"LIVEGATE_SECRETS_FILE": str(path), "LIVEGATE_KRAKEN_API_KEY": "env-key"}
    lookup = load_credentials("ccxt:kraken", env, mode=Mode.TESTNET)
    assert lookup.ok and lookup.credentials is not None
    assert lookup.credentials.reveal("api_key") == "env-key"
    assert lookup.credentials.reveal("api_secret") == SECRET
    assert lookup.credentials.sources == {"api_key": "LIVEGATE_KRAKEN_API_KEY", "api_secret": "secrets file"}


def test_load_credentials_when_secrets_file_0644_then_refused_without_showing_it(tmp_path: Path) -> None:
    path = write_secrets(tmp_path / "secrets.toml", 0o644)
    lookup = load_credentials("ccxt:kraken", {"LIVEGATE_SECRETS_FILE": str(path)}, mode=Mode.LIVE)
    assert not lookup.ok
    assert any("mode 0644" in m for m in lookup.missing)
    assert all(SECRET not in m for m in lookup.missing)


def test_secret_when_pickled_then_refused() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))
    assert "x" not in repr(Credentials(venue="v", fields={"api_key": Secret("x")}))
