"""Serving the API and writing ``status.json`` are read-only: a replay's ledger is the same with them on."""

from __future__ import annotations

import json
from pathlib import Path

from livegate.api.auth import create_http_token
from tests.api.helpers import free_port
from tests.api.sessions import tiny_replay
from tests.integration.helpers import clean_env
from tests.integration.session_helpers import cli


def test_replay_when_http_api_on_then_same_ledger_hash_and_config_hash_as_without(tmp_path: Path) -> None:
    create_http_token(tmp_path / "state", force=False)
    env, data = clean_env(tmp_path), tiny_replay(tmp_path, rows=2000)
    plain = cli(["run", "--no-progress", *data, "--out", str(tmp_path / "plain")], env, tmp_path)
    http = ["--http", f"127.0.0.1:{free_port()}"]
    served_args = ["run", "--no-progress", *data, "--out", str(tmp_path / "served"), *http]
    served = cli(served_args, env, tmp_path)
    assert plain.returncode == 0 and served.returncode == 0, plain.stderr[-2000:] + served.stderr[-2000:]
    summaries = [json.loads((tmp_path / name / "summary.json").read_text()) for name in ("plain", "served")]
    assert summaries[0]["intents"] > 0
    assert summaries[0]["ledger_hash"] == summaries[1]["ledger_hash"]
    configs = [json.loads((tmp_path / name / "config_resolved.json").read_text()) for name in ("plain", "served")]
    assert configs[0]["config_hash"] == configs[1]["config_hash"]
    assert configs[1]["config"]["http"]["bind"].startswith("127.0.0.1:")
    status = json.loads((tmp_path / "served" / "status.json").read_text())
    assert status["running"] is False and status["counts"]["intents"] == summaries[1]["intents"]
