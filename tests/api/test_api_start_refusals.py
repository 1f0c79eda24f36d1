"""``livegate run --http`` refuses to start (exit 2, naming the fix) rather than run without a safe API."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from livegate.api.auth import create_http_token, http_token_path
from tests.api.sessions import tiny_replay
from tests.integration.helpers import clean_env
from tests.integration.session_helpers import approved, cli, read_ledger


def _run(tmp_path: Path, bind: str, **extra: str) -> tuple[int, str, Path]:
    run_dir = tmp_path / "run"
    args = ["run", "--no-progress", *tiny_replay(tmp_path), "--out", str(run_dir), "--http", bind]
    done = cli(args, clean_env(tmp_path, **extra), tmp_path)
    return done.returncode, done.stdout + done.stderr, run_dir


def test_run_http_when_bind_not_loopback_and_remote_not_allowed_then_exit_2_naming_the_key(tmp_path: Path) -> None:
    code, out, run_dir = _run(tmp_path, "0.0.0.0:9898")
    assert code == 2, out
    assert "allow_remote" in out
    assert not run_dir.exists()


def test_run_http_when_token_file_missing_then_exit_2_naming_the_init_command_and_nothing_traded(
    tmp_path: Path,
) -> None:
    code, out, run_dir = _run(tmp_path, "127.0.0.1:0")
    assert code == 2, out
    assert "livegate http token init" in out
    assert approved(read_ledger(run_dir)) == []


def test_run_http_when_token_file_open_to_others_then_exit_2(tmp_path: Path) -> None:
    path = create_http_token(tmp_path / "state", force=False)
    os.chmod(path, 0o644)
    code, out, _ = _run(tmp_path, "127.0.0.1:0")
    assert code == 2, out
    assert f"chmod 600 {http_token_path(tmp_path / 'state')}" in out


def test_run_http_when_port_in_use_then_exit_2_naming_the_address(tmp_path: Path) -> None:
    create_http_token(tmp_path / "state", force=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code, out, run_dir = _run(tmp_path, f"127.0.0.1:{port}")
    assert code == 2, out
    assert f"127.0.0.1:{port}" in out
    assert approved(read_ledger(run_dir)) == []
