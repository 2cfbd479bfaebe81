"""The canonical findings page (``outputs/published/findings/``), the README's generated findings
block and the superseded banners: the README block is exactly what the generator writes from the
published tables, every starred per-PDE result in it survives Holm in the family it states, the
page's tables have no index column and no empty table, every figure text is >= 10 pt, and every
per-folder report page says it is superseded and links the page."""

import re
from pathlib import Path

import pytest

from pde_lib.report.evidence import load_evidence, stopping_rates
from pde_lib.report.readme_block import END, START, findings_block, per_pde_items
from pde_lib.report.scale import scale_table
from pde_lib.report.study_chunks import study_owns_readme

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "outputs" / "published"
PAGE = PUBLISHED / "findings" / "index.html"


@pytest.fixture(scope="module")
def evidence():
    return load_evidence(PUBLISHED)


@pytest.fixture(scope="module")
def block(evidence):
    return findings_block(evidence, scale_table(ROOT / "parameters" / "paper.yaml", evidence),
                          stopping_rates(evidence), "outputs/published/findings/index.html",
                          "outputs/published/findings/forest.png")


@pytest.mark.skipif(study_owns_readme(PUBLISHED), reason="the README's block is the study's (test_study_report)")
def test_readme_block_is_what_the_generator_writes_from_the_published_tables(block):
    readme = (ROOT / "README.md").read_text()
    assert readme.count(START) == readme.count(END) == 1
    shown = readme[readme.index(START):readme.index(END) + len(END)]
    assert shown == block, "README's findings block drifted: run `python -m pde_lib findings-page`"
    # right after the title paragraph, before the first section
    assert readme.index(START) < readme.index("\n## ", readme.index("\n# ") + 1) + 1


def test_every_starred_per_pde_result_survives_holm_in_its_stated_family(evidence, block):
    items = per_pde_items(block)
    assert items and all(starred for *_, starred in items)
    for run, model, pde, strategy, family, starred in items:
        t = evidence[run].claims["per_pde"]
        assert t.attrs["family"] == family
        row = t[(t["model"] == model) & (t["pde"] == pde) & (t["strategy"] == strategy)]
        assert len(row) == 1 and bool(row["holm_reject"].iloc[0]) == starred, (run, model, pde, strategy)
    survivors = sum(int(ev.claims["per_pde"]["holm_reject"].sum()) for ev in evidence.values())
    assert len(items) == survivors  # and every survivor is listed


def test_no_pooled_verdict_averages_an_unlearned_pde(evidence, block):
    for ev in evidence.values():
        bad = ev.learned[~ev.learned["learned"]]
        assert ("advection" in set(bad["pde"]))
        per_pde = ev.claims["per_pde"]
        assert "advection" not in set(per_pde["pde"])
    assert "advection (fno2d, ID)" in block and "optional stopping" in block


def test_page_tables_have_no_index_column_and_none_is_empty():
    page = PAGE.read_text()
    tables = re.findall(r"<table.*?</table>", page, flags=re.S)
    assert len(tables) >= 12
    for t in tables:
        assert "<th></th>" not in t and "Unnamed" not in t
        assert "<tbody>" in t and "<td>" in t.split("<tbody>")[1]
    assert "unresolved" not in page and "src=\"data:image/png;base64," in page
    assert "http" not in page.replace("https://", "")  # self-contained: nothing fetched
    assert "plateau" not in page.lower()


def test_the_page_reproduces_byte_for_byte(evidence, tmp_path):
    from pde_lib.report.findings_page import all_figures, page_html

    scale = scale_table(ROOT / "parameters" / "paper.yaml", evidence)
    from pde_lib.report.pilot_banner import strip_banner

    committed = strip_banner(PAGE.read_text())  # the study v2's "Pilot" banner, once its report exists
    superseded = re.findall(r'<li><a href="([^"]+)">', committed)
    assert len(superseded) == 30
    fresh = page_html(evidence, scale, stopping_rates(evidence), all_figures(evidence), superseded)
    assert fresh == committed, "the findings page drifted: run `python -m pde_lib findings-page`"
    assert (PUBLISHED / "findings" / "forest.png").stat().st_size < 300_000


def test_every_figure_text_is_at_least_10_pt(evidence):
    import matplotlib.pyplot as plt

    from pde_lib.report.findings_page import claim_figure
    from pde_lib.report.forest import small_fonts

    by_run = {run: ev.claims for run, ev in evidence.items()}
    for n in (1, 2, 3, 4, "headline"):
        fig = claim_figure(n, by_run)
        assert small_fonts(fig) == [], n
        plt.close(fig)


def test_forest_markers_are_filled_exactly_where_holm_survives(evidence):
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from pde_lib.report.findings_page import claim_figure

    fig = claim_figure(2, {run: ev.claims for run, ev in evidence.items()})
    markers = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_marker() in ("o", "s")]
    filled = sum(to_hex(ln.get_markerfacecolor()) != "#ffffff" for ln in markers)
    expected = sum(int(ev.claims["strategies"]["holm_reject"].sum()) for ev in evidence.values())
    assert len(markers) == sum(len(ev.claims["strategies"]) for ev in evidence.values())
    assert filled == expected
    plt.close(fig)


def test_superseded_banner_is_injected_once_and_links_the_page(tmp_path):
    from pde_lib.report.superseded import mark_superseded

    page = tmp_path / "old" / "reports" / "r.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html><head></head><body class='x'><h1>old</h1></body></html>")
    canonical = tmp_path / "findings" / "index.html"
    mark_superseded(page, canonical, "Older evidence.")
    mark_superseded(page, canonical, "Older evidence, again.")
    text = page.read_text()
    assert text.count("superseded:start") == 1 and "again" in text
    assert text.index("<body class='x'>") < text.index("Superseded.") < text.index("<h1>old</h1>")
    assert 'href="../../findings/index.html"' in text
    from pde_lib.errors import DataError

    with pytest.raises(DataError, match="no such report page"):
        mark_superseded(tmp_path / "missing.html", canonical, "x")


def test_every_published_report_page_carries_the_banner():
    pages = sorted(PUBLISHED.glob("laptop*/reports/*.html"))
    assert len(pages) == 30
    for p in pages:
        text = p.read_text()
        assert text.count("superseded:start") == 1, p
        assert 'href="../../findings/index.html"' in text, p


def test_heatmap_is_legible_and_scaled_by_the_model_rows():
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from pde_lib.report.forest import small_fonts
    from pde_lib.report.plots import heatmap

    table = pd.DataFrame({"fno2d": [0.49, 0.48, 0.8, 1.0]},
                         index=["none", "transfer", "baseline: copy last frame", "baseline: zero prediction"])
    fig = heatmap(table, title="navier_stokes")
    w, h = fig.get_size_inches()
    assert w >= 5 and h >= 3.2  # not a thin strip
    assert small_fonts(fig) == []
    clim = fig.axes[0].images[0].get_clim()
    assert clim == (0.48, 0.49)  # the baselines (0.8, 1) do not set the scale
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0.49", "0.48", "0.8", "1"]
    plt.close(fig)
    assert np.isfinite(clim).all()


def test_html_table_has_no_index_column_and_says_so_when_empty():
    import pandas as pd

    from pde_lib.report.tables import html_table

    pivot = pd.DataFrame({"fno2d": ["+1%"], "unet": ["+2%"]}, index=pd.Index(["transfer"], name="strategy"))
    html = html_table(pivot)
    assert "<th></th>" not in html and "<th>strategy</th>" in html and "<td>transfer</td>" in html
    assert html_table(pd.DataFrame({"a": [1]})).count("<th>") == 1
    filtered = pd.DataFrame({"a": [1, 2, 3]}).iloc[[0, 2]]  # positions 0 and 2 are not row labels
    assert "<th></th>" not in html_table(filtered) and html_table(filtered).count("<th>") == 1
    labelled = pd.DataFrame({"fno2d": ["+1%"]}, index=["baseline: copy last frame"])
    assert "<td>baseline: copy last frame</td>" in html_table(labelled) and "<th></th>" not in html_table(labelled)
    assert html_table(pd.DataFrame(columns=["a"]), "Nothing ran.") == "<p>Nothing ran.</p>"


def test_one_meaning_per_colour_across_strategies_augmentations_and_distributions():
    from pde_lib.report.colors import AUGMENTATION_COLORS, DISTRIBUTION_COLORS, STRATEGY_COLORS

    used = {}
    for kind, colors in (("strategy", STRATEGY_COLORS), ("augmentation", AUGMENTATION_COLORS),
                         ("distribution", DISTRIBUTION_COLORS)):
        for name, c in colors.items():
            if name == "none":  # black: "no treatment" in both lists
                continue
            assert c.lower() not in used, (kind, name, used.get(c.lower()))
            used[c.lower()] = (kind, name)


def test_no_report_text_claims_a_plateau_the_data_contradict():
    import pandas as pd

    from pde_lib.report.fairness import plateau_verdict

    table = pd.DataFrame({"model": ["fno2d"], "pde": ["heat"], "distribution": ["id"], "samples": [32],
                          "plateaued": ["yes"], "max_improvement": [0.01]})
    text = plateau_verdict(table)
    assert "trained to a plateau" not in text and "longer schedule" in text
    for path in [*ROOT.glob("notebooks/report_*.py"), *ROOT.glob("pde_lib/report/*.py")]:
        assert "trained to a plateau" not in path.read_text().replace("not trained to a plateau", ""), path


def test_no_published_report_or_report_notebook_shows_an_index_column():
    pages = [*PUBLISHED.glob("laptop*/reports/*.html"), *ROOT.glob("notebooks/report_*.ipynb")]
    assert len(pages) == 35
    for p in pages:
        assert "<th></th>" not in p.read_text(), p


def test_report_figures_keep_every_text_at_10_pt_or_more():
    import matplotlib.pyplot as plt
    import pandas as pd

    from pde_lib.report.forest import small_fonts
    from pde_lib.report.plots import ci_lines, grouped_points

    s = pd.DataFrame({"strategy": ["none", "transfer"] * 2, "samples": [10, 10, 100, 100], "pde": "heat",
                      "mean": [0.5, 0.4, 0.3, 0.25], "ci_low": [0.45, 0.35, 0.27, 0.2],
                      "ci_high": [0.55, 0.45, 0.33, 0.3], "points": [(0.5, 0.52)] * 4})
    for fig in (ci_lines(s, x="samples", line="strategy", panel="pde"),
                grouped_points(s, group="strategy", hue="samples", panel="pde")):
        assert small_fonts(fig) == []
        plt.close(fig)


def test_readme_headline_figure_fits_beside_the_text_at_100_percent():
    """The README's figure floats beside the verdicts on the first screen: at most 480 px wide
    (its text at least 10 pt at 100 dpi, checked above), so it is shown unscaled."""
    import struct

    head = (PUBLISHED / "findings" / "forest.png").read_bytes()[:24]
    width, height = struct.unpack(">II", head[16:24])
    assert width <= 480 and height <= 1100, (width, height)
