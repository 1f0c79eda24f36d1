"""Shared fixtures: the test data in the repository and the recorded data beside the checkout.

Core tests read ``tests/data`` (``core_data``): every file is in the repository, so a fresh
clone runs them with nothing beside it. Extended tests read ``../shared/data``
(``shared_data``): they are marked ``extended`` and skipped, with a reason naming
``../shared/data``, when it is absent; ``--require-shared-data`` (CI) turns that skip into
a failure, so CI never passes with the extended tests silently left out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORE_DATA = REPO_ROOT / "tests" / "data"
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-shared-data",
        action="store_true",
        default=False,
        help="fail (instead of skip) the extended tests when ../shared/data is not beside the checkout",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses ``shared_data`` as ``extended`` (before ``-m`` selects)."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.extended)


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
