"""Load configuration from defaults, a TOML profile, ``LIVEGATE_*`` env and CLI overrides.

Precedence (highest first): CLI > env > profile > default. Every leaf value remembers
where it came from, written to ``config_resolved.json``.

Environment mapping: ``LIVEGATE_SEED`` sets the seed (``LIVEGATE_MODE`` is read by mode resolution);
``LIVEGATE_<SECTION>__<KEY>`` sets ``[section] key`` (e.g.
``LIVEGATE_RISK__MAX_ORDER_NOTIONAL_USD=500``). Other ``LIVEGATE_*`` variables (state
dir, kill switch, live arming, credentials) are not configuration and are ignored here.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from livegate.config.models import LivegateConfig
from livegate.domain.errors import ConfigError

_TOP_LEVEL_ENV = {"LIVEGATE_SEED": "seed"}
#: Sections that never touch an order: left out of the config hash, so turning the operator
#: API or alerts on changes neither the preflight match nor the client order ids (the same run
#: with or without them has the same session id and ledger hash; docs/operations.md, docs/alerts.md).
_UNHASHED_SECTIONS = frozenset({"http", "alerts"})


@dataclass(frozen=True, slots=True)
class ResolvedConfig:
    """A validated config, where each value came from, and its hash.

    ``sources`` maps dotted keys (``risk.max_order_notional_usd``) to ``default``,
    ``profile:<path>``, ``env:<VAR>`` or ``cli``. ``config_hash`` is the sha256 of the
    canonical JSON of the config, without the ``[http]`` and ``[alerts]`` sections (operations, not trading).
    """

    config: LivegateConfig
    sources: dict[str, str]
    profile_path: str
    config_hash: str

    def to_record(self) -> dict[str, Any]:
        """Return the ``config_resolved.json`` content."""
        return {
            "config": {**self.config.model_dump(mode="json"), "alerts": self.config.alerts.redacted()},
            "sources": dict(sorted(self.sources.items())),
            "profile": self.profile_path,
            "config_hash": self.config_hash,
        }


def packaged_profiles() -> list[str]:
    """Return the names of the profiles shipped with the package."""
    root = resources.files("livegate") / "profiles"
    return sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))


def find_profile(spec: str) -> Path:
    """Return the path of a profile given as a file path or a packaged profile name.

    Raises
    ------
    ConfigError
        If neither a file nor a packaged profile of that name exists.
    """
    path = Path(spec)
    if path.is_file():
        return path
    packaged = resources.files("livegate") / "profiles" / f"{spec}.toml"
    if packaged.is_file():
        return Path(str(packaged))
    raise ConfigError(f"profile {spec!r} not found: not a file and not one of {packaged_profiles()}")


def load_config(
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, Any] | None = None,
) -> ResolvedConfig:
    """Resolve the configuration.

    Parameters
    ----------
    profile:
        A TOML file path or packaged profile name, or None for defaults only.
    env:
        Environment to read ``LIVEGATE_*`` overrides from (pass ``os.environ``).
    cli:
        Dotted-key overrides from the command line, e.g. ``{"seed": 3}``.

    Raises
    ------
    ConfigError
        On unreadable TOML, an unknown key or a value of the wrong type; the message
        names the key and the file or variable it came from.
    """
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    profile_path = ""
    if profile is not None:
        path = find_profile(profile)
        profile_path = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read profile {path}: {exc}") from exc
        _merge(merged, data, sources, f"profile:{path}")
    if env is not None:
        _merge(merged, _env_overrides(env), sources, None)
    if cli:
        for key, value in cli.items():
            if value is None:
                continue
            _set_dotted(merged, key, value)
            sources[key] = "cli"
    try:
        config = LivegateConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, sources)) from exc
    dumped = config.model_dump(mode="json")
    for key in _leaf_keys(dumped):
        sources.setdefault(key, "default")
    hashed = {key: value for key, value in dumped.items() if key not in _UNHASHED_SECTIONS}
    digest = hashlib.sha256(json.dumps(hashed, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return ResolvedConfig(config=config, sources=sources, profile_path=profile_path, config_hash=digest)


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for var, raw in sorted(env.items()):
        if var in _TOP_LEVEL_ENV:
            out[_TOP_LEVEL_ENV[var]] = (raw, f"env:{var}")
        elif var.startswith("LIVEGATE_") and "__" in var:
            section, _, key = var.removeprefix("LIVEGATE_").lower().partition("__")
            value: Any = raw
            if raw.strip().startswith("["):
                try:
                    value = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{var}: not a JSON list: {exc}") from exc
            out.setdefault(section, {})[key] = (value, f"env:{var}")
    return out


def _merge(target: dict[str, Any], data: Mapping[str, Any], sources: dict[str, str], origin: str | None) -> None:
    def walk(node: Mapping[str, Any], prefix: str, dest: dict[str, Any]) -> None:
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, Mapping):
                if key == "params":
                    dest[key] = dict(value)
                    sources[dotted] = origin or "env"
                    continue
                child = dest.setdefault(key, {})
                if not isinstance(child, dict):
                    child = {}
                    dest[key] = child
                walk(value, f"{dotted}.", child)
            elif origin is None and isinstance(value, tuple):
                dest[key] = value[0]
                sources[dotted] = value[1]
            else:
                dest[key] = value
                sources[dotted] = origin or "env"

    walk(data, "", target)


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _leaf_keys(node: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and key != "params":
            keys.extend(_leaf_keys(value, f"{dotted}."))
        else:
            keys.append(dotted)
    return keys


def _explain(exc: ValidationError, sources: Mapping[str, str]) -> str:
    lines = []
    for err in exc.errors():
        dotted = ".".join(str(p) for p in err["loc"])
        origin = _origin_of(dotted, sources)
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key {dotted!r} (from {origin})")
        else:
            got = "<redacted>" if dotted.startswith("alerts.") else repr(err.get("input"))  # URLs hold tokens
            lines.append(f"invalid value for {dotted!r} (from {origin}): {err['msg']}; got {got}")
    return "invalid configuration: " + "; ".join(lines)


def _origin_of(dotted: str, sources: Mapping[str, str]) -> str:
    probe = dotted
    while probe:
        if probe in sources:
            return sources[probe]
        probe = probe.rpartition(".")[0]
    for key, origin in sources.items():
        if key.startswith(dotted + "."):
            return origin
    return "default"
