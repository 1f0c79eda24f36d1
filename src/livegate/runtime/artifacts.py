"""Run-directory artifacts (docs/architecture.md §4): build info, resolved config, summary, report."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livegate.domain.clock import wall_time_ms

if TYPE_CHECKING:
    from livegate.ops.rollup_read import RunReader

#: Written by setup.py at build time (version, git commit); never committed.
BUILD_INFO_FILE = "_build_info.json"

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
    """Return version, git commit, Python, platform and dependency versions.

    ``git_sha`` is the commit recorded when the package was built (``setup.py`` writes
    ``livegate/_build_info.json``), or ``None`` when it was not built from a git checkout;
    git is never called at run time.
    """
    deps = {name: installed_version(name) or "not installed" for name in _DEPENDENCIES}
    identity = build_identity()
    return {
        "livegate_version": identity.version,
        "git_sha": identity.git_commit,
        "git_dirty": identity.git_dirty,
        "build": identity.build,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": deps,
    }


@dataclass(frozen=True, slots=True)
class BuildIdentity:
    """What was built: version, and the git commit when built from a checkout.

    Attributes
    ----------
    version : str
        The installed distribution's version (``0+unknown`` when not installed).
    git_commit : str or None
        40 hex digits of the commit built, or None when not known.
    git_dirty : bool or None
        True when tracked files differed from that commit at build time.
    build : str
        ``wheel``, ``editable``, ``sdist`` or ``no git checkout``; ``unknown`` without a record.
    """

    version: str
    git_commit: str | None
    git_dirty: bool | None
    build: str

    def describe(self) -> str:
        """Return ``livegate <version>`` plus the commit when known (the ``--version`` line)."""
        if self.git_commit is None:
            return f"livegate {self.version}"
        extra = ", uncommitted changes" if self.git_dirty else ""
        return f"livegate {self.version} (git {self.git_commit}{extra}; {self.build} build)"


def build_identity() -> BuildIdentity:
    """Return the identity recorded at build time in ``livegate/_build_info.json``.

    Raises nothing: a missing or unreadable record gives an unknown commit.
    """
    try:
        text: str | None = resources.files("livegate").joinpath(BUILD_INFO_FILE).read_text(encoding="utf-8")
    except OSError:
        text = None
    return parse_build_record(livegate_version(), text)


def parse_build_record(version: str, text: str | None) -> BuildIdentity:
    """Return the identity in a build record's JSON ``text`` (None: no record).

    A record that is not a JSON object, or fields of the wrong type, read as unknown.
    """
    try:
        record = json.loads(text) if text is not None else None
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return BuildIdentity(version=version, git_commit=None, git_dirty=None, build="unknown")
    commit, dirty, build = record.get("git_commit"), record.get("git_dirty"), record.get("build")
    return BuildIdentity(
        version=version,
        git_commit=commit if isinstance(commit, str) else None,
        git_dirty=dirty if isinstance(dirty, bool) else None,
        build=build if isinstance(build, str) else "unknown",
    )


def livegate_version() -> str:
    """Return the installed livegate version."""
    return installed_version("livegate") or "0+unknown"


def installed_version(name: str) -> str | None:
    """Return distribution ``name``'s version (:func:`importlib.metadata.version`); None when not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def write_report(path: Path, summary: Mapping[str, Any], reader: RunReader | None = None) -> None:
    """Write the run's self-contained ``report.html`` at ``path`` from its ledger (:mod:`livegate.ops.report`).

    ``reader``: the session's ledger reader (the events it read are not read again).
    """
    from livegate.ops.report import write_run_report  # L4 page builder, imported where it is used

    written = write_run_report(path.parent, summary, reader)
    if written != path:
        written.replace(path)
