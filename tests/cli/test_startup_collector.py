"""The ``livegate`` process starts with the cyclic collector off; it is on, start-up frozen, when a command runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _run_main(tmp_path: Path, *args: str, entry: str = "livegate.cli.main") -> dict[str, object]:
    """Run ``main()`` of ``entry`` with ``args``; report the collector as the command's own code sees it."""
    code = (
        "import gc, json, sys\n"
        "from livegate.cli import lazy\n"
        "seen = {}\n"
        "original = lazy.LazyCommand.make_context\n"
        "def probe(self, *a, **k):\n"
        "    seen['before_parse_enabled'] = gc.isenabled()\n"
        "    context = original(self, *a, **k)\n"
        "    seen['enabled'], seen['frozen'] = gc.isenabled(), gc.get_freeze_count()\n"
        "    return context\n"
        "lazy.LazyCommand.make_context = probe\n"
        f"from {entry} import main\n"
        f"sys.argv = ['livegate', *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\n' + json.dumps(seen) + '\\n')\n"
    )
    env = {"LIVEGATE_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    result: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("entry", ["livegate.cli.main", "livegate.testing.__main__"], ids=["livegate", "hooked"])
def test_main_when_a_command_runs_then_collector_was_off_through_start_up_and_is_on_with_start_up_frozen(
    tmp_path: Path, entry: str
) -> None:
    # the test composition (python -m livegate.testing, the crash harness's processes) starts as livegate does
    seen = _run_main(tmp_path, "venues", entry=entry)
    assert seen["before_parse_enabled"] is False
    assert seen["enabled"] is True
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000


def test_lazy_command_when_collector_already_on_then_nothing_frozen() -> None:
    code = (
        "import gc\n"
        "from typer.testing import CliRunner\n"
        "from livegate.cli.main import app\n"
        "result = CliRunner().invoke(app, ['venues'])\n"
        "print(result.exit_code, gc.isenabled(), gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["0", "True", "0"]
