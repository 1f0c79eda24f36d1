"""Which IB ``execId`` an execution correction replaces (livegate.venues.ibkr.corrections)."""

from __future__ import annotations

import pytest

from livegate.venues.ibkr.corrections import corrected_exec_id


@pytest.mark.parametrize(
    ("exec_id", "corrects"),
    [
        ("0000e0d5.6555a859.01.02", "0000e0d5.6555a859.01.01"),  # the TWS API reference's example
        ("0000e0d5.6555a859.01.03", "0000e0d5.6555a859.01.02"),
        ("0000e0d5.6555a859.01.10", "0000e0d5.6555a859.01.09"),
        ("0000e0d5.6555a859.01.01", None),  # an original execution
        ("0000e0d5.6555a859.01.00", None),
        ("00018037.5d8e7a4c.01.0x", None),
        ("no-period", None),
        ("", None),
    ],
)
def test_corrected_exec_id_when_last_part_counts_versions_then_previous_version_or_none(
    exec_id: str, corrects: str | None
) -> None:
    assert corrected_exec_id(exec_id) == corrects
