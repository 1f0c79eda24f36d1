"""``livegate --help`` imports no command module; each command is the real one once used (issue 14 item 8)."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from livegate.cli.lazy import loaded_helps
from livegate.cli.main import COMMANDS, app

#: What ``livegate --help`` must not import: the session runtime, the venue SDKs, pandas.
HEAVY = ("livegate.runtime", "livegate.execution", "livegate.config.models", "ccxt", "pandas", "aiohttp", "pydantic")


def _modules_after(*args: str) -> list[str]:
    code = (
        "import json, sys\n"
        "from livegate.cli.main import app\n"
        "try:\n"
        f"    app({list(args)!r}, prog_name='livegate')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    modules: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return modules


def test_help_when_listed_then_no_command_module_nor_heavy_library_is_imported() -> None:
    modules = _modules_after("--help")
    assert [m for m in modules if m.startswith(HEAVY)] == []
    assert [
        m for m in modules if m.startswith("livegate.cli.") and m not in ("livegate.cli.main", "livegate.cli.lazy")
    ] == []


def test_help_when_listed_then_every_command_appears_with_its_one_line_help() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=400)
    assert result.exit_code == 0
    for name, ref in COMMANDS.items():
        assert name in result.output
        assert ref.help.replace("``", "")[:40] in result.output.replace("``", "")


def test_command_table_when_modules_loaded_then_each_help_line_is_the_command_own() -> None:
    for name, listed, own in loaded_helps(COMMANDS):
        assert listed == own, f"livegate {name}: table says {listed!r}, the command says {own!r}"


def test_command_when_used_then_the_real_command_parses_and_runs() -> None:
    result = CliRunner().invoke(app, ["ledger", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "verify" in result.output and "export" in result.output
    bad = CliRunner().invoke(app, ["run", "--no-such-option"])
    assert bad.exit_code == 2
    assert "No such option" in bad.output


def test_base_install_when_declared_then_no_pandas_numpy_or_exchange_calendars() -> None:
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = " ".join(project["dependencies"]).lower()
    assert not any(name in base for name in ("pandas", "numpy", "exchange-calendars", "exchange_calendars"))
    extras = project["optional-dependencies"]
    for extra in ("equities", "alpaca", "ibkr"):  # equity venues bring their market-hours calendar
        assert any(req.startswith("exchange-calendars") for req in extras[extra]), extra
