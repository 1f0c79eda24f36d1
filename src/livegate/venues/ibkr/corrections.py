"""IB execution corrections: which ``execId`` a corrected execution replaces.

Source: TWS API reference, ``Execution.ExecId`` (interactivebrokers.github.io/tws-api/
classIBApi_1_1Execution.html; the same text in IB's API client sources): "Each partial
fill has a separate ExecId. A correction is indicated by an ExecId which differs from a
previous ExecId in only the digits after the final period, e.g. an ExecId ending in ".02"
would be a correction of a previous execution with an ExecId ending in ".01"." So
``0000e0d5.6555a859.01.02`` corrects ``0000e0d5.6555a859.01.01``.

IB does not say whether a correction replaces the execution or adds to it (ib_insync
issue 364 asks; ib_async, like ib_insync, passes a correction on as one more fill). A
correction of a previous execution is read here as replacing it, like a FIX trade
correction: counting it as one more fill would count the execution twice. livegate does
not apply it; it reports it as a :class:`~livegate.domain.orders.FillCorrection`, an
anomaly that halts trading (:class:`livegate.execution.reports.ReportApplier`).
"""

from __future__ import annotations

__all__ = ["corrected_exec_id"]


def corrected_exec_id(exec_id: str) -> str | None:
    """Return the ``execId`` that ``exec_id`` corrects, or None for an original execution.

    The last part after the final period counts the versions of one execution: ``01`` is
    the original, ``02`` corrects ``01``, ``03`` corrects ``02`` (same width). An id
    without a period, or whose last part is not a number above 1, is an original.
    """
    base, dot, last = exec_id.rpartition(".")
    if not dot or not last.isdigit() or int(last) <= 1:
        return None
    return f"{base}.{int(last) - 1:0{len(last)}d}"
