"""ConsoleFormatter: the console line structlog's processor chain renders, without importing structlog.

The reference is the chain :func:`livegate.telemetry.logging_setup._formatter` builds for
the console format (structlog's ``ProcessorFormatter``); only the time differs (structlog
stamps the time of formatting, the formatter the record's creation time), so both are
compared with the ``ts=`` value replaced.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from livegate.telemetry.logging_setup import ConsoleFormatter, LogFormat, _formatter

_TS = re.compile(r"ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")
_LEVELS = st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL, 5, 45])


def _record(
    message: str, args: tuple[object, ...], level: int, exc: BaseException | None, stack: str | None
) -> logging.LogRecord:
    exc_info = None if exc is None else (type(exc), exc, exc.__traceback__)
    record = logging.LogRecord("livegate.test", level, __file__, 1, message, args, exc_info, sinfo=stack)
    return record


def _failure(text: str) -> BaseException:
    try:
        raise ValueError(text)
    except ValueError as exc:
        return exc


@given(
    message=st.text(max_size=40).map(lambda t: t.replace("%", "%%")),
    arg=st.one_of(st.none(), st.integers(), st.text(max_size=10)),
    level=_LEVELS,
    failure=st.one_of(st.none(), st.text(max_size=12)),
    stack=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
)
def test_console_formatter_when_any_record_then_same_text_as_structlog_chain(
    message: str, arg: object, level: int, failure: str | None, stack: str | None
) -> None:
    args: tuple[object, ...] = () if arg is None else (arg,)
    text = message + (" %s" if args else "")
    exc = None if failure is None else _failure(failure)
    reference = _formatter(LogFormat.CONSOLE).format(_record(text, args, level, exc, stack))
    ours = ConsoleFormatter().format(_record(text, args, level, exc, stack))
    assert _TS.sub("ts=T", ours) == _TS.sub("ts=T", reference)
    assert _TS.search(ours)


def test_console_formatter_when_exc_info_true_outside_an_exception_then_no_traceback_like_structlog() -> None:
    record = logging.LogRecord("livegate", logging.ERROR, __file__, 1, "failed", (), (None, None, None))
    reference = _formatter(LogFormat.CONSOLE).format(record)
    assert (
        _TS.sub("ts=T", ConsoleFormatter().format(record)) == _TS.sub("ts=T", reference) == "failed  level=error ts=T"
    )


def test_console_formatter_when_configured_then_structlog_not_imported() -> None:
    code = (
        "import logging, sys\n"
        "from livegate.telemetry.logging_setup import configure_logging\n"
        "configure_logging('console')\n"
        "logging.getLogger('livegate').warning('gate mode=paper')\n"
        "print('structlog' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert done.stderr.startswith("gate mode=paper  level=warning ts=")


def test_console_formatter_when_exception_never_raised_then_same_text_as_structlog_chain() -> None:
    record = _record("failed %s", ("x",), logging.ERROR, KeyError("BTCUSDT"), None)
    reference = _formatter(LogFormat.CONSOLE).format(record)
    ours = ConsoleFormatter().format(record)
    assert _TS.sub("ts=T", ours) == _TS.sub("ts=T", reference)
    assert ours.endswith("KeyError: 'BTCUSDT'")


def test_console_formatter_when_record_from_a_structlog_logger_then_structlog_renders_it() -> None:
    import structlog

    (event_dict,), kwargs = structlog.stdlib.ProcessorFormatter.wrap_for_formatter(
        logging.getLogger("livegate"), "info", {"event": "hello", "venue": "paper"}
    )
    record = logging.LogRecord("livegate", logging.INFO, __file__, 1, event_dict, (), None)
    for key, value in kwargs["extra"].items():
        setattr(record, key, value)
    ours = ConsoleFormatter().format(record)
    assert _TS.sub("ts=T", ours) == _TS.sub("ts=T", _formatter(LogFormat.CONSOLE).format(record))
    assert ours == "hello  level= ts= venue=paper"  # its own processors (none here) add level and time
