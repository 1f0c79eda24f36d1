"""Build hook: record the version and the git commit in ``livegate/_build_info.json``.

Everything else about the package is in ``pyproject.toml``. The hook runs when a wheel
or an editable install is built (``build_py``) and when an sdist is made: it asks git,
at build time, for the commit of the checkout being built (``git rev-parse HEAD``, and
whether tracked files differ from it). Run time never calls git: ``livegate --version``
and ``build_info.json`` read the file written here. Outside a git checkout (an sdist
unpacked elsewhere) the file the sdist carries is kept; without one the commit is
unknown (``null``). The file is generated, never committed (``.gitignore``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
RELATIVE = Path("livegate") / "_build_info.json"
SOURCE_FILE = ROOT / "src" / RELATIVE


def _git(*args: str) -> str | None:
    """Return git's stdout in ROOT, or None when git or the repository is unavailable."""
    try:
        out = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _build_info(version: str, kind: str) -> dict[str, object] | None:
    """Return the record for a build from a git checkout of this project, else None."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != ROOT:
        return None  # not a checkout of this project (e.g. an sdist inside another repository)
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return None
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {"version": version, "git_commit": commit, "git_dirty": bool(dirty), "build": kind}


def _write(target: Path, record: dict[str, object]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


class BuildPyWithBuildInfo(build_py):
    """``build_py`` that also writes ``livegate/_build_info.json``."""

    def run(self) -> None:
        """Build as usual, then write the record (into the source tree when editable)."""
        super().run()
        editable = bool(getattr(self, "editable_mode", False))
        version = self.distribution.get_version()
        record = _build_info(version, "editable" if editable else "wheel")
        target = SOURCE_FILE if editable else Path(self.build_lib) / RELATIVE
        if record is None:
            if target.exists() or SOURCE_FILE.exists():
                if not editable and not target.exists():
                    self.copy_file(str(SOURCE_FILE), str(target))
                return  # keep the record an sdist carried
            record = {"version": version, "git_commit": None, "git_dirty": None, "build": "no git checkout"}
        _write(target, record)


class SdistWithBuildInfo(sdist):
    """``sdist`` that ships the build record of the checkout it was made from."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        """Lay out the sdist as usual, then add the record of this checkout."""
        super().make_release_tree(base_dir, files)
        record = _build_info(self.distribution.get_version(), "sdist")
        if record is not None:
            _write(Path(base_dir) / "src" / RELATIVE, record)


setup(cmdclass={"build_py": BuildPyWithBuildInfo, "sdist": SdistWithBuildInfo})
