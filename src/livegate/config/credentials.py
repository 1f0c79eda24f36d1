"""Venue credentials: from ``LIVEGATE_<VENUE>_<FIELD>`` variables or a 0600 secrets file.

docs/architecture.md §3.3 and §3.10: credentials are loaded only in testnet, canary and live (a
non-real mode asking for them is a bug, so :func:`load_credentials` raises), they never
appear in logs, artifacts, telemetry or error messages, and a file holding them must be
readable by its owner only. A :class:`Secret` prints as ``***``; adapters call
:meth:`Secret.reveal` at the moment they sign a request.

Variable names: ``<VENUE>`` is the upper-cased exchange id for CCXT venues
(``ccxt:binanceusdm`` -> ``LIVEGATE_BINANCEUSDM_API_KEY``) and the adapter name otherwise
(``alpaca:us`` -> ``LIVEGATE_ALPACA_API_KEY``; ``fake:demo`` -> ``LIVEGATE_FAKE_API_KEY``).
The secrets file (``LIVEGATE_SECRETS_FILE``) is TOML with one table per ``<venue>``
(lower case) holding the same field names, e.g. ``[binanceusdm] api_key = "..."``.
An environment variable beats the file, field by field.
"""

from __future__ import annotations

import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from livegate.domain.enums import Mode
from livegate.domain.errors import InvariantViolation

__all__ = [
    "CredentialLookup",
    "Credentials",
    "Secret",
    "credential_env_var",
    "credential_name",
    "load_credentials",
    "load_market_data_key",
    "required_fields",
]

SECRETS_FILE_ENV = "LIVEGATE_SECRETS_FILE"

_KEY_SECRET: tuple[str, ...] = ("api_key", "api_secret")
_KEY_SECRET_PASSPHRASE: tuple[str, ...] = ("api_key", "api_secret", "api_passphrase")
_WALLET: tuple[str, ...] = ("wallet_address", "private_key")

#: Fields each venue needs, by credential name; the default is api key + secret. Sources:
#: ccxt ``requiredCredentials`` (``password`` for okx/kucoin/bitget/coinbaseexchange,
#: ``walletAddress`` + ``privateKey`` for hyperliquid/paradex); IBKR authenticates in
#: TWS / IB Gateway, so the adapter needs none.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "okx": _KEY_SECRET_PASSPHRASE,
    "kucoin": _KEY_SECRET_PASSPHRASE,
    "kucoinfutures": _KEY_SECRET_PASSPHRASE,
    "bitget": _KEY_SECRET_PASSPHRASE,
    "coinbaseexchange": _KEY_SECRET_PASSPHRASE,
    "hyperliquid": _WALLET,
    "paradex": _WALLET,
    "ibkr": (),
}

#: Variables a venue's own SDK reads, accepted after livegate's own variable (alpaca-py's names).
_SDK_ALIASES: dict[tuple[str, str], str] = {
    ("alpaca", "api_key"): "APCA_API_KEY_ID",
    ("alpaca", "api_secret"): "APCA_API_SECRET_KEY",
}

#: Venues whose market data needs a key even in shadow and paper (Alpaca's data stream).
_MARKET_DATA_KEY_VENUES = frozenset({"alpaca"})

#: Adapters that host many exchanges: credentials are per exchange id, not per adapter.
_MULTI_EXCHANGE_ADAPTERS = frozenset({"ccxt"})

_NAME_RE = re.compile(r"[^A-Za-z0-9]+")


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or f-strings.

    Parameters
    ----------
    value:
        The secret text.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret text; call it only where a request is signed."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, format_spec: str) -> str:
        return "***"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The credentials of one venue; shows field names and source, never values.

    Parameters
    ----------
    venue:
        Credential name (see :func:`credential_name`), e.g. ``"binanceusdm"``.
    fields:
        Secret values by field name (``api_key``, ``api_secret``, ``api_passphrase``,
        ``wallet_address``, ``private_key``).
    sources:
        Where each field came from: the variable name or ``"secrets file"``.
    """

    venue: str
    fields: Mapping[str, Secret] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def reveal(self, name: str) -> str | None:
        """Return the secret text of field ``name``, or None when absent."""
        secret = self.fields.get(name)
        return None if secret is None else secret.reveal()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}=*** ({self.sources.get(k, '?')})" for k in sorted(self.fields))
        return f"Credentials(venue={self.venue!r}, {shown})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class CredentialLookup:
    """Result of :func:`load_credentials`: the credentials, or what is missing.

    ``missing`` names each missing piece by the variable that would supply it (or the
    secrets-file problem), never by value.
    """

    credentials: Credentials | None
    missing: list[str]

    @property
    def ok(self) -> bool:
        """Return True when every required field is present."""
        return not self.missing and self.credentials is not None


def credential_name(venue: str) -> str:
    """Return the credential name of a venue: the exchange id for CCXT, else the adapter name.

    ``"ccxt:binanceusdm"`` -> ``"binanceusdm"``; ``"alpaca:us"`` -> ``"alpaca"``;
    ``"binanceusdm"`` (no adapter prefix) -> ``"binanceusdm"``.
    """
    adapter, sep, rest = venue.partition(":")
    if not sep:
        return venue.lower()
    return (rest if adapter.lower() in _MULTI_EXCHANGE_ADAPTERS else adapter).lower()


def required_fields(venue: str) -> tuple[str, ...]:
    """Return the credential fields ``venue`` needs (may be empty, e.g. IBKR)."""
    return _REQUIRED.get(credential_name(venue), _KEY_SECRET)


def credential_env_var(venue: str, field_name: str) -> str:
    """Return the variable that carries ``field_name`` for ``venue``, e.g. ``LIVEGATE_KRAKEN_API_KEY``."""
    name = _NAME_RE.sub("_", credential_name(venue)).strip("_").upper()
    return f"LIVEGATE_{name}_{field_name.upper()}"


def load_credentials(venue: str, env: Mapping[str, str], *, mode: Mode) -> CredentialLookup:
    """Load the credentials of ``venue`` from ``env`` and the secrets file.

    Parameters
    ----------
    venue:
        Configured venue, e.g. ``"ccxt:kraken"``.
    env:
        The process environment (pass ``os.environ``).
    mode:
        The resolved run mode; must be testnet, canary or live.

    Returns
    -------
    CredentialLookup
        The credentials, or ``missing`` naming every absent field by its variable, and
        any problem with the secrets file (unreadable, not TOML, readable by others).

    Raises
    ------
    InvariantViolation
        When ``mode`` is not a real mode: shadow and paper never load credentials.
    """
    if not mode.is_real:
        raise InvariantViolation(f"credentials must not be loaded in mode {mode.value}")
    name = credential_name(venue)
    wanted = required_fields(venue)
    missing: list[str] = []
    file_values: Mapping[str, object] = {}
    file_spec = env.get(SECRETS_FILE_ENV, "")
    if file_spec:
        file_values, problem = _read_secrets_file(Path(file_spec).expanduser(), name)
        if problem:
            missing.append(f"{SECRETS_FILE_ENV} ({problem})")
    fields: dict[str, Secret] = {}
    sources: dict[str, str] = {}
    for field_name in wanted:
        var = credential_env_var(venue, field_name)
        alias = _SDK_ALIASES.get((name, field_name), "")
        for source in (var, alias):
            value = env.get(source, "") if source else ""
            if value:
                fields[field_name], sources[field_name] = Secret(value), source
                break
        if field_name in fields:
            continue
        from_file = file_values.get(field_name)
        if isinstance(from_file, str) and from_file:
            fields[field_name], sources[field_name] = Secret(from_file), "secrets file"
            continue
        missing.append(var)
    if missing:
        return CredentialLookup(credentials=None, missing=missing)
    return CredentialLookup(credentials=Credentials(venue=name, fields=fields, sources=sources), missing=[])


def load_market_data_key(venue: str, env: Mapping[str, str]) -> Credentials | None:
    """Return the key a venue's market data needs in shadow and paper, or None (none needed or not set).

    Only venues whose public data stream requires authentication (Alpaca) have one; it is
    read from the same variables as the trading key (``LIVEGATE_ALPACA_API_KEY`` /
    ``LIVEGATE_ALPACA_API_SECRET``, else alpaca-py's ``APCA_API_KEY_ID`` /
    ``APCA_API_SECRET_KEY``) and used only for the data stream: the adapter built with it
    makes no trading call (docs/venues_equities.md).
    """
    name = credential_name(venue)
    if name not in _MARKET_DATA_KEY_VENUES:
        return None
    fields: dict[str, Secret] = {}
    sources: dict[str, str] = {}
    for field_name in required_fields(venue):
        for source in (credential_env_var(venue, field_name), _SDK_ALIASES.get((name, field_name), "")):
            value = env.get(source, "") if source else ""
            if value:
                fields[field_name], sources[field_name] = Secret(value), source
                break
        else:
            return None
    return Credentials(venue=name, fields=fields, sources=sources)


def _read_secrets_file(path: Path, table: str) -> tuple[Mapping[str, object], str]:
    """Return the venue's table of the secrets file and a problem text ('' when fine)."""
    try:
        st = path.stat()
    except OSError as exc:
        return {}, f"{path}: {exc.strerror or 'cannot stat'}"
    if stat.S_IMODE(st.st_mode) & 0o077:
        return {}, f"{path} has mode {stat.S_IMODE(st.st_mode):04o}; it must be 0600 (chmod 600 {path})"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"{path}: cannot read ({type(exc).__name__})"
    except tomllib.TOMLDecodeError:
        # The decoder's message may quote the offending line, which could hold a secret.
        return {}, f"{path}: not valid TOML"
    section = data.get(table, {})
    if not isinstance(section, dict):
        return {}, f"{path}: [{table}] is not a table"
    return section, ""
