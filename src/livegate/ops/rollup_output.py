"""Find runs, and write rollup rows as CSV, JSON or Parquet (``livegate rollup``; docs/daily.md).

CSV is the required format: a header line with :data:`~livegate.ops.rollup.ROLLUP_COLUMNS`,
empty cells for unknown values, money as exact decimal text; pandas, polars and duckdb read
it with their defaults. Parquet is written only when pyarrow is installed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from livegate.domain.errors import ConfigError, DataError
from livegate.ops.rollup import ROLLUP_COLUMNS, rollup_rows
from livegate.ops.rollup_read import LEDGER_FILE, read_run
from livegate.ops.run_facts import RunFacts

__all__ = ["ROLLUP_SCHEMA", "Rollup", "build_rollup", "find_runs", "write_rollup"]

#: ``schema`` of the rollup JSON document.
ROLLUP_SCHEMA: Final = "livegate.rollup/1"


@dataclass(slots=True)
class Rollup:
    """Rows over the runs read, and the runs that could not be read (with why).

    Attributes
    ----------
    rows : list of dict
        One per (day, mode, venue, symbol), columns :data:`ROLLUP_COLUMNS`.
    runs : list of RunFacts
        The runs read.
    skipped : list of (Path, str)
        Run directories that could not be read and the error.
    """

    rows: list[dict[str, object]]
    runs: list[RunFacts]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def to_json(self, base: Path | None = None) -> dict[str, object]:
        """Return the JSON document; run paths are relative to ``base`` when given."""
        return {
            "schema": ROLLUP_SCHEMA,
            "columns": list(ROLLUP_COLUMNS),
            "runs": [_shown(r.run_dir, base) for r in self.runs],
            "skipped": [{"run": _shown(p, base), "error": e} for p, e in self.skipped],
            "rows": self.rows,
        }


def _shown(path: Path, base: Path | None) -> str:
    if base is None:
        return str(path)
    return os.path.relpath(path.resolve(), base.resolve())


def find_runs(runs_dir: Path) -> list[Path]:
    """Return the run directories (holding ``ledger.sqlite``) directly under ``runs_dir``, sorted by name.

    Raises
    ------
    ConfigError
        If ``runs_dir`` is not a directory.
    """
    if not runs_dir.is_dir():
        raise ConfigError(f"--runs-dir {runs_dir}: not a directory")
    return sorted(p for p in runs_dir.iterdir() if p.is_dir() and (p / LEDGER_FILE).is_file())


def build_rollup(run_dirs: Iterable[Path], since: dt.date | None = None) -> Rollup:
    """Read each run and roll them up; rows of days before ``since`` are left out.

    A run that cannot be read is skipped and named in :attr:`Rollup.skipped`.
    """
    runs: list[RunFacts] = []
    skipped: list[tuple[Path, str]] = []
    for run_dir in run_dirs:
        try:
            runs.append(read_run(run_dir, table_rows=0))  # rollups use no table rows
        except DataError as exc:
            skipped.append((run_dir, str(exc)))
    rows = rollup_rows(runs)
    if since is not None:
        first = since.isoformat()
        rows = [r for r in rows if str(r["day"]) >= first]
        kept = {str(p) for r in rows for p in _row_runs(runs, r)}
        runs = [r for r in runs if str(r.run_dir) in kept]
    return Rollup(rows, runs, skipped)


def _row_runs(runs: Sequence[RunFacts], row: dict[str, object]) -> list[Path]:
    day = str(row["day"])
    return [
        r.run_dir
        for r in runs
        if r.mode == row["mode"] and (r.day(r.first_ts_ms) <= day <= r.day(r.last_ts_ms or r.first_ts_ms))
    ]


def write_rollup(rollup: Rollup, out: Path) -> str:
    """Write the rollup to ``out`` by its suffix: ``.csv``, ``.json`` or ``.parquet``; return the format.

    Raises
    ------
    ConfigError
        On another suffix, or ``.parquet`` without pyarrow installed.
    OSError
        If the file cannot be written.
    """
    suffix = out.suffix.lower()
    if suffix == ".csv":
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(ROLLUP_COLUMNS)
            for row in rollup.rows:
                writer.writerow(["" if row.get(c) is None else row.get(c) for c in ROLLUP_COLUMNS])
        return "csv"
    if suffix == ".json":
        out.write_text(json.dumps(rollup.to_json(out.parent), indent=2) + "\n", encoding="utf-8")
        return "json"
    if suffix == ".parquet":
        try:
            import pyarrow as pa  # type: ignore[import-not-found,unused-ignore]
            import pyarrow.parquet as pq  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise ConfigError("--out *.parquet needs pyarrow (pip install pyarrow); CSV needs nothing") from exc
        columns = {c: [row.get(c) for row in rollup.rows] for c in ROLLUP_COLUMNS}
        pq.write_table(pa.table(columns), out)
        return "parquet"
    raise ConfigError(f"--out {out}: unknown format {suffix or '(no suffix)'!r}; use .csv, .json or .parquet")
