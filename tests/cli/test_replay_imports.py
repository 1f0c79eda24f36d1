"""A paper replay's ``livegate run`` process never imports what only live venues, the live gate or the HTTP API need.

Each module below is imported where its feature is used (issue 14: start-up of ``livegate
run``): importing one of them at the top of a module on the replay path again would bring
its cost back to every run, unseen. The run is the real console entry point, as a
subprocess, with ``-X importtime`` listing every module the process imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: Modules a paper replay on recorded data must not import, and where each is used instead.
DEFERRED = {
    "livegate.venues.fake": "the fake: venue's factory (venues.registry)",
    "livegate.config.credentials": "a real mode or venue (runtime.start, venues.registry)",
    "livegate.modes.live_gate": "testnet, canary, live (runtime.start.plan_start)",
    "livegate.modes.preflight_artifact": "the live gate; a venue's preflight checks",
    "livegate.risk.pdt": "an equity venue's PDT account",
    "livegate.api.actions": "the HTTP API's operator actions (api.views)",
    "livegate.api.auth": "[http] bind (api.views.prepare)",
    "livegate.api.redact": "GET /config (api.views.config)",
    "livegate.config.secret_files": "the HTTP token file (api.auth)",
    "livegate.venues.shadow": "shadow replays (runtime.compose.build_venue)",
    "livegate.ledger.verify": "livegate ledger verify; an existing ledger's anchor check (ledger.opening)",
    "livegate.ledger.checkpoint": "a resume's or the refresh job's fold checkpoint (it hashes the fold's sources)",
    "livegate.ledger.checkpoint_decode": "reading a fold checkpoint",
    "livegate.ledger.checkpoint_columns": "a fold checkpoint's column layout (ledger.checkpoint)",
    "livegate.ledger.checkpoint_encode": "writing a fold checkpoint (ledger.checkpoint)",
    "livegate.ledger.checkpoint_rows": "writing a checkpoint from a read one (ledger.checkpoint_encode)",
    "livegate.ledger.checkpoint_spill": "the checkpoint job's scratch store (ledger.checkpoint_job)",
    "livegate.ledger.checkpoint_stream": "the checkpoint job's body writer (ledger.checkpoint_job)",
    "livegate.reconcile.resolve": "a restarted session's startup reconciliation (control.maintenance)",
    "livegate.alerts.destinations": "[alerts] with URLs (alerts.dispatcher, runtime.wiring)",
    "statistics": "loading a whole replay with receive-clock alignment (marketdata.replay)",
}


def _imported_modules(stderr: str) -> set[str]:
    """Return the module names ``-X importtime`` printed (``import time: self | cumulative | name``)."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_paper_replay_when_run_then_live_only_modules_are_never_imported(
    slice_30s: tuple[Path, Path], clean_env: dict[str, str], tmp_path: Path
) -> None:
    quotes, trades = slice_30s
    out = tmp_path / "run"
    argv = [sys.executable, "-X", "importtime", "-m", "livegate", "run", "--quotes", str(quotes)]
    argv += ["--trades", str(trades), "--no-progress", "--out", str(out)]
    done = subprocess.run(argv, env=clean_env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "ledger.sqlite").exists() and (out / "report.html").exists()
    imported = _imported_modules(done.stderr)
    # the listing is complete: the session, the paper venue and the report were imported
    assert {"livegate.runtime.session", "livegate.venues.paper", "livegate.ops.report"} <= imported
    assert sorted(imported & DEFERRED.keys()) == []
