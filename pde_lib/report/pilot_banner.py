"""Once the pre-registered study's report exists, every other published page is pilot evidence:
an amber "Pilot" banner at the top of each, linking the study's report by a path relative to the
page. HTML pages (``*.html`` under each folder, the findings page included) get it right after
``<body>``; each folder's ``README.md`` right after its title line. The banner sits between marker
comments, so marking again replaces it instead of stacking a second one (idempotent); a page's
"Superseded" banner, if any, stays below it."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from pde_lib.errors import DataError
from pde_lib.report.superseded import inject_banner
from pde_lib.utils.atomic import write_text

START, END = "<!-- pilot:start -->", "<!-- pilot:end -->"
PILOT_BANNER_STYLE = ("background:#fff4d6;border:3px solid #b7791f;color:#3d2a00;padding:12px 16px;margin:8px 0 14px 0;"
                      "font-size:1.15em;line-height:1.4;font-family:sans-serif")
TEXT = ("Pilot evidence, kept for history: planned one run after another, before the pre-registered "
        "study v2 (docs/preregistration.md), whose findings replace it.")
LINK_TEXT = "the study v2's findings"


def pilot_banner_html(link: str) -> str:
    return (f'{START}<div class="pilot" style="{PILOT_BANNER_STYLE}"><b>Pilot.</b> {html.escape(TEXT)} '
            f'Read <a href="{html.escape(link)}">{LINK_TEXT}</a>.</div>{END}')


def pilot_banner_markdown(link: str) -> str:
    return f"{START}\n> **Pilot.** {TEXT} Read [{LINK_TEXT}]({link}).\n{END}\n"


def strip_banner(text: str) -> str:
    """``text`` without its pilot banner (an HTML page exactly as it was before marking)."""
    return re.sub(re.escape(START) + ".*?" + re.escape(END), "", text, flags=re.S)


def inject_markdown(text: str, banner: str) -> str:
    """``text`` with ``banner`` after its first ``# `` title line (at the top if it has none),
    replacing an earlier pilot banner."""
    text = strip_banner(text)  # the old banner; the blank lines it leaves go below
    m = re.search(r"^# .*\n", text, flags=re.M)
    head, rest = (text[:m.end()] + "\n", text[m.end():]) if m else ("", text)
    return head + banner + "\n" + rest.lstrip("\n")


def pilot_pages(published: str | Path, study: str = "study_v2") -> list[Path]:
    """The pages to mark: every ``*.html`` under each folder of ``published`` and each folder's
    ``README.md``, the ``study`` folder left out."""
    pages = []
    for folder in sorted(p for p in Path(published).iterdir() if p.is_dir() and p.name != study):
        pages += sorted(folder.rglob("*.html"))
        if (folder / "README.md").is_file():
            pages.append(folder / "README.md")
    return pages


def mark_pilots(published: str | Path, report: str | Path, study: str = "study_v2") -> list[Path]:
    """Put the pilot banner, linking ``report``, on every ``pilot_pages``; written atomically,
    only where it changes. Returns the pages marked."""
    report = Path(report)
    marked = []
    for page in pilot_pages(published, study):
        link = os.path.relpath(report.resolve(), page.parent.resolve())
        text = page.read_text(encoding="utf-8")
        try:
            new = (inject_markdown(text, pilot_banner_markdown(link)) if page.suffix == ".md"
                   else inject_banner(text, pilot_banner_html(link), (START, END)))
        except ValueError as exc:
            raise DataError(f"{page}: {exc}") from exc
        if new != text:
            write_text(page, new)
        marked.append(page)
    return marked
