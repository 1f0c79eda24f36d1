"""Load a strategy class from ``module:Class`` or ``path/to/file.py:Class``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from livegate.domain.errors import ConfigError
from livegate.strategy.api import Strategy


def load_strategy_class(spec: str) -> type[Strategy]:
    """Return the Strategy subclass named by ``spec``.

    Raises
    ------
    ConfigError
        If the spec is malformed, the module or file cannot be imported, or the
        attribute is not a :class:`Strategy` subclass.
    """
    target, sep, class_name = spec.rpartition(":")
    if not sep or not target or not class_name:
        raise ConfigError(f"strategy spec {spec!r} must be 'module:Class' or 'path/to/file.py:Class'")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise ConfigError(f"strategy file not found: {path}")
        module_name = f"livegate_user_strategy_{path.stem}"
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ConfigError(f"cannot import strategy file {path}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            raise ConfigError(f"importing strategy file {path} failed: {exc!r}") from exc
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(f"cannot import strategy module {target!r}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        raise ConfigError(f"{spec!r}: {class_name} is not a livegate.Strategy subclass")
    return cls
