"""The preflight artifact and the live-arming files of the state dir (docs/architecture.md §3.3).

``livegate preflight`` writes ``<state dir>/preflight.json``; the live gate reads it back
and accepts it only when it passed (no FAIL check), is younger than
``[live] preflight_max_age_secs``, was made for the same mode and carries the config hash
of the running configuration. The token file ``<state dir>/live_token`` is made by
``livegate arm init``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

CheckStatus = Literal["PASS", "WARN", "FAIL"]

#: File names inside the state dir.
PREFLIGHT_FILE = "preflight.json"
TOKEN_FILE = "live_token"  # noqa: S105 - a file name, not a secret

#: Version of the artifact layout; bump on a breaking change.
PREFLIGHT_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One preflight check: ``PASS``, ``WARN`` (does not block) or ``FAIL``, with a detail."""

    name: str
    status: CheckStatus
    detail: str

    def line(self) -> str:
        """Return the printed form ``<STATUS> <check>: <detail>``."""
        return f"{self.status} {self.name}: {self.detail}"


@dataclass(frozen=True, slots=True)
class PreflightArtifact:
    """What ``livegate preflight`` found, as written to ``preflight.json``.

    Parameters
    ----------
    checks:
        Every check in the order run.
    time_ms:
        Wall time of the preflight, ms since the epoch.
    host, livegate_version:
        Where and with what it ran.
    config_hash:
        sha256 of the resolved configuration it checked.
    mode, venue:
        The mode and venue it checked.
    """

    checks: list[CheckResult]
    time_ms: int
    host: str
    livegate_version: str
    config_hash: str
    mode: str
    venue: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Return True when no check failed (warnings do not block)."""
        return all(c.status != "FAIL" for c in self.checks)

    @property
    def status(self) -> CheckStatus:
        """Return FAIL if any check failed, else WARN if any warned, else PASS."""
        statuses = {c.status for c in self.checks}
        return "FAIL" if "FAIL" in statuses else ("WARN" if "WARN" in statuses else "PASS")

    def to_record(self) -> dict[str, Any]:
        """Return the JSON-ready artifact."""
        return {
            "schema_version": PREFLIGHT_SCHEMA_VERSION,
            "status": self.status,
            "time_ms": self.time_ms,
            "host": self.host,
            "livegate_version": self.livegate_version,
            "config_hash": self.config_hash,
            "mode": self.mode,
            "venue": self.venue,
            "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in self.checks],
            **self.extra,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PreflightArtifact:
        """Rebuild an artifact from :meth:`to_record` output.

        Raises
        ------
        ValueError
            If a required field is missing or has the wrong type.
        """
        try:
            checks = [CheckResult(str(c["name"]), _status(c["status"]), str(c["detail"])) for c in record["checks"]]
            time_ms = record["time_ms"]
            if not isinstance(time_ms, int) or isinstance(time_ms, bool):
                raise ValueError("time_ms is not an integer")
            return cls(
                checks=checks,
                time_ms=time_ms,
                host=str(record["host"]),
                livegate_version=str(record["livegate_version"]),
                config_hash=str(record["config_hash"]),
                mode=str(record["mode"]),
                venue=str(record.get("venue", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed preflight artifact: {exc!r}") from exc


def _status(value: object) -> CheckStatus:
    if value == "PASS":
        return "PASS"
    if value == "WARN":
        return "WARN"
    if value == "FAIL":
        return "FAIL"
    raise ValueError(f"unknown check status {value!r}")


def preflight_path(state_dir: Path) -> Path:
    """Return ``<state dir>/preflight.json``."""
    return state_dir / PREFLIGHT_FILE


def token_path(state_dir: Path) -> Path:
    """Return ``<state dir>/live_token``."""
    return state_dir / TOKEN_FILE


def read_preflight(state_dir: Path) -> tuple[PreflightArtifact | None, str]:
    """Return the artifact of ``state_dir`` and '' or None and why it cannot be used."""
    path = preflight_path(state_dir)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"no artifact at {path}: run livegate preflight"
    except (OSError, json.JSONDecodeError) as exc:
        return None, f"unreadable artifact {path}: {type(exc).__name__}"
    if not isinstance(record, dict):
        return None, f"malformed artifact {path}"
    try:
        return PreflightArtifact.from_record(record), ""
    except ValueError as exc:
        return None, f"{path}: {exc}"


def judge_preflight(artifact: PreflightArtifact, *, config_hash: str, mode: str, now_ms: int, max_age_secs: int) -> str:
    """Return '' when the artifact arms a start, else every reason it does not.

    Parameters
    ----------
    artifact:
        The artifact read from the state dir.
    config_hash:
        Hash of the configuration about to run.
    mode:
        The mode about to run.
    now_ms:
        Wall time, ms since the epoch.
    max_age_secs:
        ``[live] preflight_max_age_secs``.
    """
    problems: list[str] = []
    if not artifact.passed:
        failed = ", ".join(c.name for c in artifact.checks if c.status == "FAIL")
        problems.append(f"failed checks: {failed}")
    age_secs = (now_ms - artifact.time_ms) / 1000
    if age_secs > max_age_secs:
        problems.append(f"stale: {age_secs:,.0f} s old > max {max_age_secs:,} s")
    elif age_secs < -60:
        problems.append(f"from the future: {-age_secs:,.0f} s ahead of this clock")
    if artifact.config_hash != config_hash:
        problems.append(f"config hash {artifact.config_hash[:12]} differs from running config {config_hash[:12]}")
    if artifact.mode != mode:
        problems.append(f"made for mode {artifact.mode}, not {mode}")
    return "; ".join(problems)
