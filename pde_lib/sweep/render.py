"""Rendering a sweep's reports: each report notebook executed with papermill into ``<sweep>/reports/<name>.ipynb`` and rendered to
``<name>.html`` without code (what a reader sees)."""

from __future__ import annotations

from pathlib import Path

from pde_lib.sweep.notebooks import execute, materialise, source_path, to_html
from pde_lib.utils.atomic import write_text

REPORTS = ("report_strategies", "report_augmentations", "report_data_scarcity", "report_distribution_shift",
           "report_findings")
#: the reports that take ``extra_dirs`` (folders joined to the sweep's results, ``aggregate.join_results``)
JOINABLE_REPORTS = ("report_findings",)


def check_joinable_reports(names) -> None:
    """ConfigError naming the reports of ``names`` that cannot join other folders."""
    from pde_lib.errors import ConfigError

    bad = sorted(set(names) - set(JOINABLE_REPORTS))
    if bad:
        raise ConfigError(f"{', '.join(bad)} cannot join other folders; the reports that can: "
                          f"{', '.join(JOINABLE_REPORTS)}")


def render_report(name: str, sweep_dir: str | Path, timeout: int | None = 600, extra_dirs=()) -> str:
    """Execute report notebook ``name`` on ``sweep_dir`` and write its .ipynb and .html; returns
    the HTML path. ``extra_dirs``: folders whose results the report joins to the sweep's (only
    for ``JOINABLE_REPORTS``; paths as seen from the current directory). Module-level so Dask
    workers can run it. Papermill fills its output notebook
    cell by cell, so it runs into ``reports/.partial/``; the finished notebook replaces
    ``reports/<name>.ipynb`` only after its HTML is written, so a failing run leaves the previous
    report pair intact (and its partial notebook in ``.partial/`` to look at)."""
    import os

    sweep_dir = Path(sweep_dir).resolve()
    reports = sweep_dir / "reports"
    parameters = {"sweep_dir": str(sweep_dir)}
    if extra_dirs:
        check_joinable_reports([name])
    # always passed (empty: the sweep alone): every report notebook's default joins the published seeds
    parameters["extra_dirs"] = ",".join(str(Path(d).resolve()) for d in extra_dirs)
    template = materialise(name, reports / ".templates" / f"{name}.ipynb")
    partial = reports / ".partial" / f"{name}.ipynb"
    executed = execute(template, partial, parameters, cwd=reports, timeout=timeout)
    set_title(executed, f"{report_title(name)} ({sweep_dir.name})")
    html = to_html(executed, reports / f"{name}.html")
    os.replace(executed, reports / f"{name}.ipynb")
    return str(html)


def report_title(name: str) -> str:
    """The report's own title: the first heading of its notebook ("Report: data scarcity")."""
    for line in source_path(name).read_text().splitlines():
        if line.startswith("# # "):
            return line[4:].strip()
    return name


def set_title(notebook: str | Path, title: str) -> None:
    """Store ``title`` in the notebook's metadata, which nbconvert uses as the HTML page title."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata["title"] = title
    write_text(notebook, nbformat.writes(nb))


def render_reports(sweep_dir: str | Path, names=REPORTS, client=None, extra_dirs=()) -> dict[str, str]:
    """Render every report (in parallel on a Dask ``client`` if given), joining ``extra_dirs``
    (``render_report``). Returns name -> HTML path, or name -> "error: ..." for a report that
    failed (the others still render)."""
    out: dict[str, str] = {}
    extra_dirs = tuple(str(Path(d).resolve()) for d in extra_dirs)  # resolved here, not on a worker
    if client is not None:
        futures = {n: client.submit(render_report, n, str(sweep_dir), extra_dirs=extra_dirs,
                                   pure=False, key=f"report-{n}")
                   for n in names}
        for n, f in futures.items():
            try:
                out[n] = f.result()
            except Exception as exc:  # noqa: BLE001 - report and go on
                out[n] = f"error: {type(exc).__name__}: {exc}"
        return out
    for n in names:
        try:
            out[n] = render_report(n, sweep_dir, extra_dirs=extra_dirs)
        except Exception as exc:  # noqa: BLE001
            out[n] = f"error: {type(exc).__name__}: {exc}"
    return out
