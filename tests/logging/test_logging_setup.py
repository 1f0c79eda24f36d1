"""configure_logging: one handler, console and JSON rendering, levels, tracebacks, refusal of unknown formats."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from livegate.telemetry.logging_setup import HANDLER_NAME, LogFormat, configure_logging


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """Yield the root logger; restore its level and drop livegate's handler afterwards."""
    root = logging.getLogger()
    level = root.level
    yield root
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)


def test_configure_logging_when_called_twice_then_one_livegate_handler_and_other_handlers_kept(
    root_logger: logging.Logger,
) -> None:
    other = logging.NullHandler()
    root_logger.addHandler(other)
    try:
        configure_logging(LogFormat.CONSOLE)
        second = configure_logging("json")
        ours = [h for h in root_logger.handlers if h.get_name() == HANDLER_NAME]
        assert ours == [second] and other in root_logger.handlers
    finally:
        root_logger.removeHandler(other)


def test_configure_logging_when_console_and_warning_with_traceback_then_message_level_time_then_traceback(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("console")
    log = logging.getLogger("livegate.test")
    log.warning("venue %s slow", "fake:demo")
    try:
        raise ValueError("bad row 7")
    except ValueError:
        log.exception("reading failed")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("venue fake:demo slow  level=warning ts=") and lines[0].endswith("Z")
    assert lines[1].startswith("reading failed  level=error ts=")
    assert lines[2] == "Traceback (most recent call last):" and lines[-1] == "ValueError: bad row 7"


def test_configure_logging_when_json_and_exception_then_one_object_with_structured_traceback(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    log = logging.getLogger("livegate.test")
    log.debug("not shown at INFO")
    try:
        raise KeyError("BTCUSDT")
    except KeyError:
        log.exception("lookup failed")
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["event"] == "lookup failed" and record["level"] == "error" and record["logger"] == "livegate.test"
    assert record["exception"][0]["exc_type"] == "KeyError"


def test_configure_logging_when_format_unknown_then_value_error_names_the_choices(root_logger: logging.Logger) -> None:
    with pytest.raises(ValueError, match=r"--log-format 'xml': expected console or json"):
        configure_logging("xml")
    assert not [h for h in root_logger.handlers if h.get_name() == HANDLER_NAME]
