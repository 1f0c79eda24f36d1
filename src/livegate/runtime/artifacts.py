"""Run-directory artifacts (DESIGN.md §4): build info, resolved config, summary, report."""

from __future__ import annotations

import html
import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from livegate.domain.clock import wall_time_ms

_DEPENDENCIES = (
    "typer",
    "rich",
    "pydantic",
    "pydantic-settings",
    "structlog",
    "jsonschema",
    "exchange-calendars",
    "tenacity",
    "aiolimiter",
    "prometheus-client",
    "ccxt",
    "alpaca-py",
    "ib-async",
)


def default_run_dir(mode: str, root: Path | None = None) -> Path:
    """Return ``./runs/<UTC timestamp>-<mode>`` (timestamp like ``20240808T235415Z``)."""
    import datetime as dt

    stamp = dt.datetime.fromtimestamp(wall_time_ms() / 1000, tz=dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return (root or Path("runs")) / f"{stamp}-{mode}"


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as indented JSON atomically (temp file, fsync, rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2, sort_keys=False, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def build_info() -> dict[str, Any]:
    """Return version, git sha, python, platform and dependency versions."""
    deps: dict[str, str] = {}
    for name in _DEPENDENCIES:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            deps[name] = "not installed"
    return {
        "livegate_version": livegate_version(),
        "git_sha": _git_sha(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": deps,
    }


def livegate_version() -> str:
    """Return the installed livegate version."""
    try:
        return metadata.version("livegate")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _git_sha() -> str:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def write_report(path: Path, summary: Mapping[str, Any]) -> None:
    """Write a self-contained HTML report of ``summary``."""
    rows = []
    for key, value in summary.items():
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
        rows.append(f"<tr><th>{html.escape(key)}</th><td>{html.escape(shown)}</td></tr>")
    body = "\n".join(rows)
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>livegate run report</title>"
        "<style>body{font-family:sans-serif}th{text-align:left;padding-right:1em}td{font-family:monospace}</style>"
        f"</head><body><h1>livegate run report</h1><table>{body}</table></body></html>\n",
        encoding="utf-8",
    )
