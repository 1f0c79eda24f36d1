"""Identity: ``livegate --version`` and ``build_info.json`` carry the version and the commit recorded at build time."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from livegate.runtime.artifacts import BuildIdentity, build_identity, build_info, parse_build_record
from tests.integration.helpers import livegate

COMMIT = "16b47a324bf01dffc45c9afcb61e3d0d744b5fef"


def test_parse_build_record_when_git_build_then_commit_dirty_flag_and_kind_kept() -> None:
    record = json.dumps({"version": "0.1.0", "git_commit": COMMIT, "git_dirty": False, "build": "wheel"})
    identity = parse_build_record("0.1.0", record)
    assert identity == BuildIdentity(version="0.1.0", git_commit=COMMIT, git_dirty=False, build="wheel")
    assert identity.describe() == f"livegate 0.1.0 (git {COMMIT}; wheel build)"


def test_parse_build_record_when_built_with_uncommitted_changes_then_version_line_says_so() -> None:
    record = json.dumps({"git_commit": COMMIT, "git_dirty": True, "build": "editable"})
    line = parse_build_record("0.1.0", record).describe()
    assert line == f"livegate 0.1.0 (git {COMMIT}, uncommitted changes; editable build)"


def test_parse_build_record_when_no_record_then_commit_unknown_and_version_only() -> None:
    identity = parse_build_record("0.1.0", None)
    assert (identity.git_commit, identity.git_dirty, identity.build) == (None, None, "unknown")
    assert identity.describe() == "livegate 0.1.0"


def test_parse_build_record_when_record_is_garbage_or_mistyped_then_unknown_fields() -> None:
    assert parse_build_record("0.1.0", "{not json").git_commit is None
    assert parse_build_record("0.1.0", "[1, 2]").build == "unknown"
    mistyped = parse_build_record("0.1.0", json.dumps({"git_commit": 7, "git_dirty": "no", "build": None}))
    assert (mistyped.git_commit, mistyped.git_dirty, mistyped.build) == (None, None, "unknown")


def test_parse_build_record_when_built_outside_git_then_commit_is_unknown() -> None:
    record = json.dumps({"version": "0.1.0", "git_commit": None, "git_dirty": None, "build": "no git checkout"})
    assert parse_build_record("0.1.0", record).describe() == "livegate 0.1.0"


def test_build_info_when_written_then_version_and_commit_come_from_the_build_record() -> None:
    info = build_info()
    identity = build_identity()
    assert info["livegate_version"] == metadata.version("livegate") == identity.version
    assert (info["git_sha"], info["git_dirty"], info["build"]) == (
        identity.git_commit,
        identity.git_dirty,
        identity.build,
    )


def test_livegate_version_when_run_then_prints_installed_version_and_recorded_commit(tmp_path: Path) -> None:
    proc = livegate(["--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == build_identity().describe()
    assert proc.stdout.startswith(f"livegate {metadata.version('livegate')}")
