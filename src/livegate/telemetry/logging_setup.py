"""Log output of the ``livegate`` command: structlog processors over the standard library's loggers.

livegate's modules log through ``logging.getLogger("livegate…")``; :func:`configure_logging`,
called once by the CLI entry point, puts one handler on the root logger whose formatter is
structlog's ``ProcessorFormatter``: a small chain of processors adds the level, the logger
name and an ISO-8601 UTC timestamp, then renders the line.

Two formats (``--log-format``):

* ``console``: the message first, unchanged, then ``level=<level> ts=<timestamp>``, so the
  gate line keeps its exact text at the start of its line
  (``gate mode=paper status=PASS reason=replay source=default  level=info ts=2026-…Z``;
  docs/architecture.md §3.2) and ``grep '^gate '`` finds it;
* ``json``: one JSON object per line, ``{"event": "<message>", "level": "info",
  "logger": "livegate", "timestamp": "2026-…Z"}``; a traceback is in ``exception``.

Nothing here configures structlog globally (``structlog.configure``); only the root
logger's handler is process-wide, as the standard library makes it.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # structlog is imported when logging is configured, not by ``livegate --help``
    import structlog
    from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["HANDLER_NAME", "LogFormat", "configure_logging"]

#: Name of the handler :func:`configure_logging` installs (a second call replaces it).
HANDLER_NAME = "livegate"
_META = ("_record", "_from_structlog")


class LogFormat(StrEnum):
    """How log lines are rendered."""

    CONSOLE = "console"
    JSON = "json"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write to whatever ``sys.stderr`` is at the time of each record (test runners swap it)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)

    @property
    def stream(self) -> TextIO:
        """Return the current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        del value  # always the current sys.stderr


def render_console(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
    """Render ``<message>  level=<level> ts=<timestamp>[ key=value…]`` and a traceback below it, if any."""
    del logger, method_name
    ed = dict(event_dict)
    event = str(ed.pop("event", ""))
    level, ts = ed.pop("level", ""), ed.pop("timestamp", "")
    ed.pop("logger", None)
    exception = ed.pop("exception", None)
    extra = "".join(f" {key}={value}" for key, value in ed.items() if key not in _META)
    line = f"{event}  level={level} ts={ts}{extra}"
    return f"{line}\n{exception}" if exception else line


def _drop_meta(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    del logger, method_name
    for key in _META:
        event_dict.pop(key, None)
    return event_dict


def _formatter(fmt: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    import structlog

    pre_chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if fmt is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer(sort_keys=True)
        final: list[Processor] = [_drop_meta, structlog.processors.dict_tracebacks, renderer]
    else:
        final = [_drop_meta, structlog.processors.format_exc_info, render_console]
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=pre_chain, processors=final)


def configure_logging(fmt: LogFormat | str = LogFormat.CONSOLE, *, level: int = logging.INFO) -> logging.Handler:
    """Send every log record to stderr in format ``fmt``, with level and ISO-8601 UTC timestamp; return the handler.

    Replaces the handler an earlier call installed; leaves other handlers alone.

    Raises
    ------
    ValueError
        If ``fmt`` is neither ``console`` nor ``json``.
    """
    try:
        chosen = LogFormat(fmt)
    except ValueError:
        raise ValueError(f"--log-format {fmt!r}: expected console or json") from None
    handler = _StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(_formatter(chosen))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
