"""Rendered reports open offline: the HTML loads no script, style sheet or image from the network
(nbconvert's default page fetches require.js and MathJax from a CDN, plus Mermaid and the widget
manager when asked)."""

from __future__ import annotations

from html.parser import HTMLParser

import nbformat
import pytest

from pde_lib.sweep.notebooks import execute, to_html

#: tags whose src / href a browser fetches when the page opens
FETCHED = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
           "embed": "src", "object": "data", "audio": "src", "video": "src"}


class _Fetches(HTMLParser):
    """Collects what a page may load: src / href of fetched tags, and the text of scripts and
    styles (searched for ``import("...")``, ``url(...)`` and quoted addresses)."""

    def __init__(self):
        super().__init__()
        self.addresses: list[str] = []
        self.code: list[str] = []
        self._in_code = False

    def handle_starttag(self, tag, attrs):
        attr = FETCHED.get(tag)
        for name, value in attrs:
            if name == attr and value:
                self.addresses.append(value)
        self._in_code = tag in ("script", "style")

    def handle_endtag(self, tag):
        self._in_code = False

    def handle_data(self, data):
        if self._in_code:
            self.code.append(data)


def external(html: str) -> list[str]:
    """Network addresses the page would fetch."""
    import re

    p = _Fetches()
    p.feed(html)
    code = "\n".join(p.code)
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)  # CSS / JS block comments are not fetched
    found = [a for a in p.addresses if a.startswith(("http://", "https://", "//"))]
    found += re.findall(r"""(?:import\(|url\(|@import\s)\s*["']?((?:https?:)?//[^"')\s]+)""", code)
    found += re.findall(r"""["'](https?://[^"']+)["']""", code)  # an address a script loads by name
    return found


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A small executed notebook: markdown with math, a matplotlib figure, a pandas table, and
    widget state in its metadata (which makes nbconvert add the widget manager)."""
    d = tmp_path_factory.mktemp("html")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Report\n\nMean error $\\bar e = \\frac{1}{n}\\sum_i e_i$."),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 2))\n"
                                  "ax.plot([0, 1], [1, 0])\nplt.show()"),
        nbformat.v4.new_code_cell("import pandas as pd\npd.DataFrame({'strategy': ['none'], 'rel_l2': [1.0004]})"),
    ]
    nb.metadata["kernelspec"] = {"name": "pde-lib", "display_name": "Python (pde_lib)", "language": "python"}
    src, out = d / "in.ipynb", d / "out.ipynb"
    nbformat.write(nb, str(src))
    execute(src, out, {}, cwd=d, timeout=120)
    done = nbformat.read(str(out), as_version=4)
    done.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json":
                                {"state": {}, "version_major": 2, "version_minor": 0}}
    nbformat.write(done, str(out))
    return out


def test_default_nbconvert_page_would_fetch_from_a_cdn(executed):
    """The check below can fail: nbconvert's own page for this notebook loads scripts from a CDN."""
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter(exclude_input=True).from_notebook_node(nbformat.read(str(executed), as_version=4))
    found = external(html)
    assert any("require" in a for a in found) and any("mathjax" in a.lower() for a in found), found
    assert any("mermaid" in a for a in found) and any("widget" in a or "unpkg" in a for a in found), found


def test_rendered_report_loads_nothing_from_the_network(executed, tmp_path):
    html = to_html(executed, tmp_path / "report.html").read_text()
    assert external(html) == []
    for tag in ('<script src="http', "<script src='http", '<link href="http', "cdnjs", "unpkg"):
        assert tag not in html
    # the content is all there: math as typed, the figure embedded, the table, no code
    assert "\\frac{1}{n}" in html and "data:image/png;base64," in html
    assert "1.0004" in html and "rel_l2" in html and "plt.subplots" not in html
