"""Under systemd (``Type=notify``) a venue session sends READY=1, WATCHDOG=1 repeatedly and STOPPING=1.

The test plays systemd: it binds a unix datagram socket, runs the ``livegate`` CLI as a
subprocess with ``NOTIFY_SOCKET`` and ``WATCHDOG_USEC`` set (a shadow session on the
paced Binance spot emulator), reads the datagrams, stops the session with SIGTERM as
``systemctl stop`` does, and checks the order of the messages and the exit code.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from livegate.runtime.sd_notify import SdNotifier
from tests.integration.helpers import base_env
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread

PROFILE = """
[venue]
name = "ccxt:binance"
symbols = ["BTC/USDT"]
rest_url = "{rest_url}"
ws_url = "{ws_url}"

[strategy.params]
requote_interval_ms = 200
"""
WATCHDOG_USEC = 600_000  # pings due every 0.3 s


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    """A bound unix datagram socket in a short temp dir (socket paths are limited to 107 bytes)."""
    directory = tempfile.mkdtemp(prefix="lg-notify-", dir="/tmp")
    path = os.path.join(directory, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.5)
    try:
        yield sock, path
    finally:
        sock.close()
        os.unlink(path)
        os.rmdir(directory)


def _receive_until(sock: socket.socket, messages: list[str], done: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for m in messages if done in m.splitlines()) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {count} x {done} within {timeout} s; got {messages}")
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            continue


def test_session_when_notify_socket_is_set_then_ready_watchdog_and_stopping_reach_systemd(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    venue = EmulatorThread(Kind.SPOT, pace_ms=10, max_events=3000)
    try:
        profile = tmp_path / "service.toml"
        emu = venue.emulator
        profile.write_text(PROFILE.format(rest_url=emu.rest_url, ws_url=emu.ws_url), encoding="utf-8")
        env = base_env()
        env.update(LIVEGATE_STATE_DIR=str(tmp_path / "state"), NOTIFY_SOCKET=path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        proc = subprocess.Popen(
            [sys.executable, "-m", "livegate", "run", "--profile", str(profile), "--mode", "shadow",
             "--no-progress", "--out", str(tmp_path / "run")],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        messages: list[str] = []
        try:
            _receive_until(sock, messages, "READY=1", 1, timeout=60)
            _receive_until(sock, messages, "WATCHDOG=1", 4, timeout=10)
            proc.send_signal(signal.SIGTERM)
            _receive_until(sock, messages, "STOPPING=1", 1, timeout=20)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    finally:
        venue.close()

    assert proc.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    kinds = [m.splitlines()[0] for m in messages]
    assert kinds[0] == "READY=1"  # after the startup reconciliation, before the loop and its timer
    assert "STATUS=shadow on ccxt:binance: BTC/USDT" in messages[0].splitlines()
    assert kinds.count("READY=1") == 1
    stopping = kinds.index("STOPPING=1")
    assert kinds[:stopping].count("WATCHDOG=1") >= 4
    assert any(line.startswith("STATUS=stopping: signal SIGTERM") for line in messages[stopping].splitlines())
    sock.settimeout(0.2)
    late = []
    while True:
        try:
            late.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    assert all("WATCHDOG=1" not in m for m in late)  # the timer stopped before STOPPING=1


def test_sd_notifier_when_watchdog_pid_names_another_process_then_no_pings(
    notify_socket: tuple[socket.socket, str],
) -> None:
    sock, path = notify_socket
    inherited = SdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}, pid=4242)
    own = SdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "4242"}, pid=4242)

    assert inherited.watchdog_interval_secs is None and not inherited.ping_if_due()
    assert own.watchdog_interval_secs == 0.0005 and own.ping_if_due()
    assert sock.recv(64) == b"WATCHDOG=1"
    assert inherited.ready("up")
    assert sock.recv(64) == b"READY=1\nSTATUS=up"
    inherited.close()
    own.close()


def test_sd_notifier_when_no_notify_socket_then_every_call_is_a_no_op() -> None:
    notifier = SdNotifier.from_env({"WATCHDOG_USEC": "1000"})

    assert not notifier.enabled
    assert not notifier.ready() and not notifier.ping_if_due() and not notifier.stopping()


def test_sd_notifier_when_notify_socket_is_abstract_then_messages_arrive() -> None:
    name = f"livegate-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    notifier = SdNotifier.from_env({"NOTIFY_SOCKET": "@" + name})
    try:
        assert notifier.stopping("bye")
        assert sock.recv(64) == b"STOPPING=1\nSTATUS=bye"
    finally:
        notifier.close()
        sock.close()
