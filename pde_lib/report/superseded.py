"""A banner at the top of a report page that newer evidence superseded, linking what superseded
it. Injected right after ``<body ...>``, between two marker comments, so re-injecting replaces
the old banner instead of stacking a second one (idempotent)."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from pde_lib.errors import DataError
from pde_lib.utils.atomic import write_text

START, END = "<!-- superseded:start -->", "<!-- superseded:end -->"
STYLE = ("background:#fde2e1;border:3px solid #b22222;color:#3b0a0a;padding:12px 16px;margin:8px 0 14px 0;"
         "font-size:1.15em;line-height:1.4;font-family:sans-serif")


def banner_html(reason: str, link: str, link_text: str) -> str:
    """The banner's HTML, between the markers."""
    return (f'{START}<div class="superseded" style="{STYLE}"><b>Superseded.</b> {html.escape(reason)} '
            f'The current findings, from the best evidence: <a href="{html.escape(link)}">'
            f"{html.escape(link_text)}</a>.</div>{END}")


def inject_banner(page: str, banner: str, markers: tuple[str, str] = (START, END)) -> str:
    """``page`` with ``banner`` right after its ``<body>`` tag, replacing an earlier banner
    between the same ``markers``."""
    page = re.sub(re.escape(markers[0]) + ".*?" + re.escape(markers[1]), "", page, flags=re.S)
    m = re.search(r"<body[^>]*>", page)
    if m is None:
        raise ValueError("no <body> tag: not an HTML page")
    return page[:m.end()] + banner + page[m.end():]


def mark_superseded(html_path: str | Path, canonical: str | Path, reason: str) -> None:
    """Write the banner into ``html_path`` (atomically), linking ``canonical`` by a path relative
    to the page, so the link works wherever the repository is checked out."""
    html_path, canonical = Path(html_path), Path(canonical)
    if not html_path.exists():
        raise DataError(f"{html_path}: no such report page to mark superseded")
    link = os.path.relpath(canonical.resolve(), html_path.parent.resolve())
    page = html_path.read_text(encoding="utf-8")
    try:
        new = inject_banner(page, banner_html(reason, link, "findings at a glance"))
    except ValueError as exc:
        raise DataError(f"{html_path}: {exc}") from exc
    if new != page:
        write_text(html_path, new)


#: why each published folder's pages are superseded (folder name -> sentence)
REASONS = {
    "laptop": ("These pages show 3-5 seeds fine-tuned 60 epochs, with advection (learned by no model) "
               "pooled into every verdict; the 60-epoch baselines were not trained to a plateau: "
               "fine-tuned 240 epochs, the gains shrink (U-Net transfer, pooled as here: +47% at 60 epochs, "
               "+16% at 240)."),
    "laptop_seeds_3_4": "These pages show one seed extension on its own; the joined 8-10 seed evidence is newer.",
    "laptop_seeds_5_9": "These pages show one seed extension on its own; the joined 8-10 seed evidence is newer.",
    "laptop_long_finetune": ("These pages show the first 5 seeds of the 240-epoch runs alone; the joined "
                             "240-epoch evidence (with its adaptive seed extension) is newer."),
    "laptop_long_finetune_ext": ("These pages show the 240-epoch extension; its seeds were added only where 5 "
                                 "seeds left a comparison undecided (optional stopping), and advection is "
                                 "pooled into its verdicts."),
    "laptop_long_finetune_aug": ("These pages show the 240-epoch augmentation runs alone; the joined 240-epoch "
                                 "evidence is newer."),
}


def mark_published(published: str | Path, canonical: str | Path, reasons: dict = REASONS) -> list[Path]:
    """Banner every ``reports/*.html`` of each folder named in ``reasons`` under ``published``;
    returns the pages marked."""
    marked = []
    for folder, reason in reasons.items():
        for page in sorted((Path(published) / folder / "reports").glob("*.html")):
            mark_superseded(page, canonical, reason)
            marked.append(page)
    return marked
