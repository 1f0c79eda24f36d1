"""Bad configuration is refused with exit 2, naming the key and where it came from."""

from __future__ import annotations

from pathlib import Path

from tests.integration.helpers import livegate


def test_run_when_profile_has_unknown_key_then_exit_2_naming_key_and_file(tmp_path: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text("[paper]\nfill_mod = 'none'\n")
    proc = livegate(["run", "--no-progress", "--profile", str(profile), "--out", str(tmp_path / "r")], tmp_path)
    assert proc.returncode == 2
    text = proc.stderr + proc.stdout
    assert "paper.fill_mod" in text
    assert str(profile) in text


def test_run_when_profile_value_has_wrong_type_then_exit_2(tmp_path: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text("seed = 'abc'\n")
    proc = livegate(["run", "--no-progress", "--profile", str(profile), "--out", str(tmp_path / "r")], tmp_path)
    assert proc.returncode == 2
    assert "'seed'" in proc.stderr + proc.stdout


def test_run_when_env_override_has_unknown_key_then_exit_2_naming_variable(tmp_path: Path) -> None:
    proc = livegate(["run", "--no-progress", "--out", str(tmp_path / "r")], tmp_path, LIVEGATE_PAPER__NOPE="1")
    assert proc.returncode == 2
    assert "LIVEGATE_PAPER__NOPE" in proc.stderr + proc.stdout


def test_run_when_strategy_given_as_file_path_then_it_runs(tmp_path: Path) -> None:
    strategy = tmp_path / "my_strategy.py"
    strategy.write_text(
        "from livegate import Strategy\n"
        "class Quiet(Strategy):\n"
        "    name = 'quiet'\n"
        "    def on_start(self, ctx):\n"
        "        self.quotes = 0\n"
        "    def on_quote(self, ctx, quote):\n"
        "        self.quotes += 1\n"
        "        if self.quotes == 10:\n"
        "            d = ctx.submit_order(symbol=quote.symbol, side='buy', quantity='0.001', order_type='market')\n"
        "            assert d.approved, d\n"
    )
    out = tmp_path / "r"
    proc = livegate(["run", "--no-progress", "--strategy", f"{strategy}:Quiet", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    import json

    s = json.loads((out / "summary.json").read_text())
    assert s["intents"] == 1
    assert s["fills"] >= 1


def test_run_when_strategy_spec_malformed_then_exit_2(tmp_path: Path) -> None:
    proc = livegate(["run", "--no-progress", "--strategy", "no_colon_here", "--out", str(tmp_path / "r")], tmp_path)
    assert proc.returncode == 2
