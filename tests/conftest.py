"""Shared fixtures: the test data in the repository and the recorded data beside the checkout.

Core tests read ``tests/data`` (``core_data``): every file is in the repository, so a fresh
clone runs them with nothing beside it. Extended tests read ``../shared/data``
(``shared_data``): they are marked ``extended`` and skipped, with a reason naming
``../shared/data``, when it is absent; ``--require-shared-data`` (CI) turns that skip into
a failure, so CI never passes with the extended tests silently left out.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import base_env

REPO_ROOT = Path(__file__).resolve().parents[1]
CORE_DATA = REPO_ROOT / "tests" / "data"
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()
#: Test packages whose tests run the ``livegate`` CLI or a whole session against an emulator
#: (seconds each; most of the suite's time). They are scheduled first, see
#: :func:`pytest_collection_modifyitems` below.
LONG_RUNNING_PACKAGES = frozenset(
    {"api", "cli", "integration", "recovery", "venues_alpaca_e2e", "venues_e2e", "venues_ibkr_e2e"}
)


#: xdist workers per core for ``-n auto``: most of a worker's time is spent waiting for a
#: ``livegate`` subprocess or a paced emulator, so one worker per core leaves the cores half idle.
WORKERS_PER_CORE = 2


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Return the worker count of ``-n auto``: :data:`WORKERS_PER_CORE` per usable core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores * WORKERS_PER_CORE)


def pytest_configure(config: pytest.Config) -> None:
    """Let the ``livegate`` subprocesses the tests start reuse compiled bytecode.

    Each session test starts ``python -m livegate`` (a few hundred per run), and every start
    imports ~170 livegate modules. With ``PYTHONDONTWRITEBYTECODE`` set (some machines set it
    globally) nothing is cached and every start compiles them all again. The subprocesses
    write their bytecode under one cache prefix in the temp dir instead (``PYTHONPYCACHEPREFIX``,
    so the source tree stays clean); inherited by every environment the tests build.
    """
    if "PYTHONPYCACHEPREFIX" not in os.environ:
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"livegate-tests-pycache-{os.getuid()}")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-shared-data",
        action="store_true",
        default=False,
        help="fail (instead of skip) the extended tests when ../shared/data is not beside the checkout",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses ``shared_data`` as ``extended`` (before ``-m`` selects); long tests first."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.extended)
    _long_tests_first(items)


#: Allocations of tracked objects between two young-generation collections in a test process
#: (CPython's default is 700; ``livegate run`` sets the same for a session, see
#: ``livegate.cli.run_cmd.GC_YOUNG_THRESHOLD``).
GC_YOUNG_THRESHOLD = 100_000


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[object]:
    """Collect with the cyclic collector off; then freeze what collection built and collect young garbage less often.

    Each xdist worker imports every test module and the SDKs they use (ccxt alone is ~700
    modules) and keeps all of it to the end. With CPython's defaults the collector walked
    that heap again and again: tests/marketdata, ledger, risk and domain with ``-n 2`` spent
    15 s of 87 s CPU in collections, 3 s with this (77.8 -> 65.7 s wall, same load). Frozen objects are never
    collected (:func:`gc.freeze`); what a test leaves in reference cycles still is, by the
    young and full collections that follow.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD)
        if enabled:
            gc.enable()


@pytest.fixture(scope="session")
def core_data() -> Path:
    """Return ``tests/data``: the recorded data shipped with the repository (see its README.md)."""
    return CORE_DATA


@pytest.fixture(scope="session")
def shared_data(request: pytest.FixtureRequest) -> Path:
    """Return ``../shared/data``; skip the (extended) test when the checkout has no data beside it."""
    if not SHARED_DATA.is_dir():
        reason = f"extended test: needs ../shared/data beside the checkout ({SHARED_DATA} not found)"
        if request.config.getoption("--require-shared-data"):
            pytest.fail(reason)
        pytest.skip(reason)
    return SHARED_DATA


def _long_tests_first(items: list[pytest.Item]) -> None:
    """Order ``items``: modules with a ``slow`` test, then the CLI/session packages, then the rest.

    With pytest-xdist a long test scheduled last runs alone while the other workers idle;
    started first, the short tests fill in behind it (``--dist worksteal``, in pyproject's
    addopts, moves queued tests from a busy worker to an idle one). Modules stay whole and
    keep their collection order (module-scoped fixtures are set up once); the sort is
    deterministic, so every worker collects the same order.
    """
    rank: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        parts = module.split("/")
        package = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
        item_rank = 0 if item.get_closest_marker("slow") else (1 if package in LONG_RUNNING_PACKAGES else 2)
        rank[module] = min(rank.get(module, 2), item_rank)
    first_seen = {module: i for i, module in reversed(list(enumerate(i.nodeid.split("::", 1)[0] for i in items)))}
    items.sort(key=lambda item: (rank[item.nodeid.split("::", 1)[0]], first_seen[item.nodeid.split("::", 1)[0]]))


@pytest.fixture(scope="session")
def bundled_paper_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the run directory of ``livegate run --no-progress --out DIR``: the bundled sample, paper, defaults.

    One CLI session (about 66,000 quotes) shared by the tests that read it (the determinism
    test of tests/integration/test_run_main_job.py, the flatten tests of
    tests/cli/test_cli_flatten_cancel_all.py); a test that changes a run directory copies it
    first. Its state dir is private and beside it.
    """
    root = tmp_path_factory.mktemp("bundled-paper-run")
    env = base_env()
    del env["LIVEGATE_LEDGER__SYNCHRONOUS"]  # the defaults, FULL included (the ledger records the config)
    env["LIVEGATE_STATE_DIR"] = str(root / "state")
    done = subprocess.run(
        [sys.executable, "-m", "livegate", "run", "--no-progress", "--out", str(root / "run")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return root / "run"
