"""The documentation stands on its own in a clone: no pointer outside the repository, every
relative link resolves, and every "docs/protocol.md section N" names a section that exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "notebooks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def tracked_text_files() -> list[Path]:
    """The repository's source and documentation files (git's list; without git, the tree minus
    what runs produce), this file excepted."""
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        files = [ROOT / f for f in out.split()]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "outputs", "build"}
        files = [p for p in ROOT.rglob("*") if not skip & set(p.relative_to(ROOT).parts)]
    return [p for p in files if p.suffix in (".py", ".md", ".yaml", ".ipynb", ".sh", ".toml")
            and p != Path(__file__).resolve()]


def protocol_sections() -> set[str]:
    heads = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", (ROOT / "docs" / "protocol.md").read_text(), flags=re.M)
    return set(heads)


def test_protocol_has_every_numbered_section():
    assert protocol_sections() == {str(i) for i in range(1, 10)} | {f"2.{i}" for i in range(1, 7)}


def test_no_reference_outside_the_repository():
    bad = [f"{p.relative_to(ROOT)}: {line.strip()}" for p in tracked_text_files() if p.exists()
           for line in p.read_text(errors="replace").splitlines()
           if "STUDY_SPEC" in line or "../shared" in line]
    assert bad == []


def test_relative_links_resolve():
    missing = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if not re.match(r"[a-z]+:", target) and not (doc.parent / target).exists():
                missing.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert missing == []


def test_protocol_section_references_exist():
    sections = protocol_sections()
    cited = []
    for p in tracked_text_files():
        if p.exists():
            text = re.sub(r"\s+", " ", p.read_text(errors="replace").replace("#", " "))
            for m in re.finditer(r"(?:docs/protocol\.md|protocol) sections? ((?:\d+(?:\.\d+)?(?:, | and |-| )?)+)", text):
                cited += [(p.relative_to(ROOT), n) for n in re.findall(r"\d+(?:\.\d+)?", m.group(1))]
    assert len(cited) > 10  # the pattern finds the references
    assert [c for c in cited if c[1] not in sections] == []
