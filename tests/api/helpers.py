"""Talk to a session's HTTP API from a test: plain urllib on loopback, a free port, Chromium and tmux."""

from __future__ import annotations

import json
import shlex
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


@dataclass
class Answer:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    url: str, *, method: str = "GET", body: bytes | None = None, token: str | None = None, timeout: float = 10
) -> Answer:
    """Send one request; return the answer whatever its status."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def post(url: str, payload: dict[str, Any], token: str | None) -> Answer:
    """POST ``payload`` as JSON with an optional bearer token."""
    return request(url, method="POST", body=json.dumps(payload).encode(), token=token)


def wait_up(base: str, timeout_secs: float, process: subprocess.Popen[str] | None = None) -> None:
    """Poll ``base/health`` until the API answers at all (any status)."""
    deadline = time.monotonic() + timeout_secs
    while True:
        try:
            request(f"{base}/health", timeout=1)
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"livegate ended with {process.returncode} before its API answered") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"the API at {base} did not answer within {timeout_secs} s") from None
            time.sleep(0.02)


def metric_families(text: str) -> dict[str, Any]:
    """Parse Prometheus text with prometheus-client's own parser; return families by name."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def chromium_binary() -> str | None:
    """Return the headless browser of Debian's ``chromium`` package, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_dump_dom(url: str, work: Path) -> str:
    """Load ``url`` in headless Chromium and return the DOM it rendered."""
    binary = chromium_binary()
    assert binary is not None
    done = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={work}",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def chromium_screenshot(url: str, work: Path, out: Path) -> None:
    """Render ``url`` in headless Chromium to a PNG at ``out``."""
    binary = chromium_binary()
    assert binary is not None
    done = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={work}",
         "--window-size=1280,1000", f"--screenshot={out}", url],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]


class TmuxPane:
    """A detached tmux session on its own server socket (ended by :meth:`close`)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.socket = name
        exports = " ".join(f"{k}={shlex_quote(v)}" for k, v in sorted(env.items()) if k.startswith("LIVEGATE_"))
        line = f"env {exports} {' '.join(shlex_quote(part) for part in command)}"
        subprocess.run(["tmux", "-L", name, "new-session", "-d", "-x", "160", "-y", "50", line], check=True, timeout=30)

    def capture(self) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "capture-pane", "-p"], capture_output=True, text=True, timeout=30, check=False
        )
        return done.stdout

    def wait_for(self, text: str, timeout_secs: float) -> str:
        deadline = time.monotonic() + timeout_secs
        while True:
            screen = self.capture()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the tmux screen after {timeout_secs} s:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30, check=False)


def shlex_quote(text: str) -> str:
    """Quote ``text`` for a POSIX shell."""
    return shlex.quote(text)
