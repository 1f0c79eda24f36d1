"""Every anomaly kind the code raises is declared in ``AnomalyKind`` and has a response.

A kind outside the enum halts (fail closed, ``risk/triggers.py``), so a new kind written
as a plain string somewhere in ``src/`` without its enum member would halt sessions by
accident. This scans the source for the literal kinds handed to the anomaly sinks.
"""

from __future__ import annotations

import re
from pathlib import Path

from livegate.domain.enums import AnomalyKind
from livegate.risk.triggers import ANOMALY_RESPONSES

SRC = Path(__file__).resolve().parents[2] / "src" / "livegate"
#: Calls that take an anomaly kind as their first argument.
SINKS = re.compile(r"\b(?:on_anomaly|_anomaly|anomaly|_report|fail_closed|report_anomaly)\(\s*\"([a-z_]+)\"")


def test_anomaly_kinds_when_source_scanned_then_every_literal_kind_is_declared_with_a_response() -> None:
    used: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        for match in SINKS.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(match.group(1), str(path.relative_to(SRC)))
    assert len(used) >= 10  # the scan found the sinks (a broken pattern would pass vacuously)
    undeclared = {kind: where for kind, where in used.items() if kind not in set(AnomalyKind)}
    assert undeclared == {}
    assert set(ANOMALY_RESPONSES) == set(AnomalyKind)
