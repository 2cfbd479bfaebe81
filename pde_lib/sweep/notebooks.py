"""Running the project's notebooks headless: jupytext source -> .ipynb -> papermill -> HTML.

Kernel choice: papermill runs every notebook in a kernel named ``pde-lib`` whose command is
*this* interpreter (``sys.executable``), so cells run in the same environment as the sweep on any
machine. ``ensure_kernel()`` registers it on first use (in the environment's prefix, falling back
to the user's Jupyter folder) and re-registers it if it points at another Python."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pde_lib.errors import ConfigError

KERNEL_NAME = "pde-lib"
NOTEBOOK_DIR = Path(os.environ.get("PDE_LIB_NOTEBOOKS", Path(__file__).resolve().parents[2] / "notebooks"))


#: kernel log level CRITICAL: keeps ipykernel's start-up warnings out of the sweep's output
#: (cell errors still reach papermill and the executed notebook)
KERNEL_ARGS = ["--IPKernelApp.log_level=50"]
#: the kernel draws figures inline even where the caller's environment sets MPLBACKEND=Agg
#: (which would otherwise leave every report without its plots)
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Make sure a kernelspec ``name`` running ``sys.executable`` exists; return its name."""
    import shutil
    import tempfile

    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec(name)
        if (spec.argv and os.path.realpath(spec.argv[0]) == os.path.realpath(sys.executable)
                and all(a in spec.argv for a in KERNEL_ARGS)
                and all(spec.env.get(k) == v for k, v in KERNEL_ENV.items())):
            return name
    except NoSuchKernel:
        pass
    tmp = tempfile.mkdtemp(prefix="pde-lib-kernel-")
    try:
        write_kernel_spec(os.path.join(tmp, name), overrides={"display_name": "Python (pde_lib)", "env": KERNEL_ENV},
                          extra_arguments=KERNEL_ARGS)
        try:
            ksm.install_kernel_spec(os.path.join(tmp, name), kernel_name=name, prefix=sys.prefix)
        except OSError:
            ksm.install_kernel_spec(os.path.join(tmp, name), kernel_name=name, user=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return name


def source_path(name: str) -> Path:
    """``notebooks/<name>.py`` (the committed jupytext source)."""
    path = NOTEBOOK_DIR / f"{name}.py"
    if not path.is_file():
        raise ConfigError(f"notebook source {path} does not exist (set PDE_LIB_NOTEBOOKS to the notebooks folder)")
    return path


def materialise(name: str, dest: str | Path) -> Path:
    """Convert ``notebooks/<name>.py`` into an output-free ``dest`` .ipynb for papermill."""
    import jupytext
    import nbformat

    from pde_lib.utils.atomic import atomic_path

    nb = jupytext.read(source_path(name))
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python (pde_lib)", "language": "python"}
    nb.metadata.pop("jupytext", None)
    dest = Path(dest)
    with atomic_path(dest) as tmp:
        nbformat.write(nb, str(tmp))
    return dest


#: environment variables a notebook kernel must not inherit from a Dask worker. A nanny starts its
#: workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``); in
#: a kernel that trains, it also switches off glibc's dynamic mmap threshold, so every tensor
#: buffer above 128 KiB is mmap'ed, faulted in and zeroed on every step: a laptop-study fine-tune
#: ran 2.2x slower with it (``benchmarks/malloc_trim.py``).
KERNEL_ENV_DROP = ("MALLOC_TRIM_THRESHOLD_",)


def kernel_environment() -> None:
    """Remove ``KERNEL_ENV_DROP`` from this process's environment, which the kernels it starts
    inherit (the process's own allocator read its settings at start-up and keeps them)."""
    for name in KERNEL_ENV_DROP:
        os.environ.pop(name, None)


def execute(template: str | Path, output: str | Path, parameters: dict, cwd: str | Path | None = None,
            timeout: int | None = None) -> Path:
    """Run ``template`` with papermill into ``output`` (parameters injected after the cell
    tagged ``parameters``), in a kernel without ``KERNEL_ENV_DROP`` in its environment. Raises
    papermill's ``PapermillExecutionError`` on a failing cell."""
    import papermill as pm

    kernel_environment()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(template), str(output), parameters=parameters, kernel_name=ensure_kernel(),
                        cwd=str(cwd or output.parent), progress_bar=False, log_output=False,
                        execution_timeout=timeout)
    return output


#: nbconvert's "lab" page without the blocks that fetch scripts from a CDN (require.js, MathJax,
#: Mermaid, Jupyter widgets): a report opens offline and never touches the network. Styles are
#: inlined by the template itself; figures are embedded PNGs. Math in markdown stays as typed.
OFFLINE_HTML_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def to_html(notebook: str | Path, html: str | Path) -> Path:
    """Render an executed notebook to HTML without code cells (reader-facing) that loads nothing
    from the network (``OFFLINE_HTML_TEMPLATE``)."""
    import nbformat
    from nbconvert import HTMLExporter

    from pde_lib.utils.atomic import write_text

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.raw_template = OFFLINE_HTML_TEMPLATE
    body, _ = exporter.from_notebook_node(nbformat.read(str(notebook), as_version=4))
    write_text(html, body)
    return Path(html)


def refresh_paired(name: str, timeout: int | None = 600) -> Path:
    """Rebuild ``notebooks/<name>.ipynb`` from its jupytext source and execute it in place with
    its default parameters (smoke; the published laptop study for the reports), so the committed pair holds fresh outputs for nbval.
    Papermill's run metadata (paths, timestamps) is stripped to keep diffs small."""
    import nbformat

    target = NOTEBOOK_DIR / f"{name}.ipynb"
    materialise(name, target)
    execute(target, target, {}, cwd=NOTEBOOK_DIR, timeout=timeout)
    nb = nbformat.read(str(target), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "tags" in cell.metadata:
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "injected-parameters"]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    nbformat.write(nb, str(target))
    return target
