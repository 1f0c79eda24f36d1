"""Check that the docs are true: every command, path and LIVEGATE_* variable they name exists.

Run from the repository root: ``python scripts/check_docs.py``. Exit 0 when every
reference resolves, 1 otherwise (each missing reference printed). It also checks that
the README's Quick start is exactly two one-line commands; ``--quickstart`` prints them,
one per line (stdlib only, nothing installed needed), which is how ``.ci/run`` runs them
verbatim.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SRC = ROOT / "src" / "livegate"

ENV_RE = re.compile(r"\bLIVEGATE_[A-Z0-9_]*[A-Z0-9]\b")
CMD_RE = re.compile(r"(?m)(?:^[ \t]*|&&[ \t]*|\$[ \t]+)livegate((?:[ \t]+[a-z][a-z-]*)+)")
PATH_RE = re.compile(
    r"`((?:src|tests|benchmarks|scripts|docs|deploy|\.ci)/[^`\s]*|LICENSE|constraints\.txt|setup\.py)`"
)
ENDPOINT_RE = re.compile(r"`(GET|POST|PUT|DELETE) (/[^`\s]*)`")
WILDCARD_ENV = {"LIVEGATE_"}


def quickstart_commands(readme: str) -> list[str]:
    """Return the command lines of the ```bash blocks in the README's "Quick start" section."""
    section = readme.split("## Quick start", 1)[-1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def main() -> int:
    """Return 0 when every reference in the docs resolves."""
    problems: list[str] = []
    quick = quickstart_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    if len(quick) != 2:
        problems.append(f"README.md: Quick start must be two one-line commands, found {len(quick)} lines")
    source_text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    source_text += "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.toml"))
    commands: set[tuple[str, ...]] = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for var in sorted(set(ENV_RE.findall(text))):
            if "<" in var or var in WILDCARD_ENV:
                continue
            if not _env_known(var, source_text):
                problems.append(f"{doc.name}: env var {var} is not read anywhere in src/")
        code = "\n".join(re.findall(r"```.*?```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", text))
        for match in CMD_RE.finditer(code):
            words = match.group(1).split()
            commands.add(tuple(words[:2]))
        for rel in PATH_RE.findall(text):
            target = ROOT / rel.rstrip(".,:;")
            if "*" in rel or "<" in rel:
                continue
            if not target.exists():
                problems.append(f"{doc.name}: path {rel} does not exist")
        # endpoints of livegate's own HTTP API; venue REST endpoints in venue docs are not ours
        for method, route in ENDPOINT_RE.findall(text) if doc.name in ("README.md", "api.md", "operations.md") else []:
            if route not in source_text:
                problems.append(f"{doc.name}: endpoint {method} {route} not found in src/")
    for words in sorted(commands):
        if not _command_exists(list(words)):
            problems.append(f"command `livegate {' '.join(words)}` does not exist")
    for line in problems:
        print(line)
    print(f"checked {len(DOCS)} docs, {len(commands)} commands: {'OK' if not problems else 'FAIL'}")
    return 1 if problems else 0


def _env_known(var: str, source_text: str) -> bool:
    if var in source_text:
        return True
    if "__" in var:  # LIVEGATE_<SECTION>__<KEY> maps onto config keys
        section, _, key = var.removeprefix("LIVEGATE_").lower().partition("__")
        return re.search(rf"\b{re.escape(key)}\b", source_text) is not None and section in source_text
    return False


def _command_exists(words: list[str]) -> bool:
    exe = Path(sys.executable).with_name("livegate")
    argv = [str(exe) if exe.exists() else "livegate"]
    for count in range(len(words), 0, -1):
        result = subprocess.run([*argv, *words[:count], "--help"], capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode == 0:
            return count == len(words) or _is_leaf(argv, words[:count], words[count:])
    return False


def _is_leaf(argv: list[str], known: list[str], rest: list[str]) -> bool:
    # `livegate run foo`: "foo" is an argument of a leaf command, which is fine.
    result = subprocess.run([*argv, *known, "--help"], capture_output=True, text=True, check=False)  # noqa: S603
    return "Commands" not in result.stdout or not rest


if __name__ == "__main__":
    if sys.argv[1:] == ["--quickstart"]:
        print("\n".join(quickstart_commands((ROOT / "README.md").read_text(encoding="utf-8"))))
        raise SystemExit(0)
    raise SystemExit(main())
