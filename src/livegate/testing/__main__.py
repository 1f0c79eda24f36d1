"""``python -m livegate.testing <livegate arguments>``: the ``livegate`` CLI with the test hooks installed.

Parses the test variables (:mod:`livegate.testing.hooks`), installs the hooks for this
process (:func:`livegate.control.faults.install_hooks`), then runs the production CLI
unchanged, started as :func:`livegate.cli.main.main` starts it (cyclic collector off until
the command's arguments are parsed). A malformed variable exits 2 with one ``error:`` line.
"""

from __future__ import annotations

import gc
import os
import sys

from livegate.cli.main import app
from livegate.control.faults import install_hooks
from livegate.domain.errors import ConfigError
from livegate.testing.hooks import hooks_from_env


def main() -> None:
    """Install the hooks from the environment and run ``livegate`` with ``sys.argv[1:]``."""
    try:
        hooks = hooks_from_env(os.environ)
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from exc
    install_hooks(hooks)
    gc.disable()  # as livegate.cli.main.main: the command's parsing turns it on, start-up frozen
    app(prog_name="livegate")


if __name__ == "__main__":
    main()
