#!/usr/bin/env bash
# Create .venv (idempotent) with the CPU build of torch and pde_lib (editable, with dev extras),
# and register the project's Jupyter kernel "pde-lib" inside the venv.
# Needs only Python 3.11 (or >= 3.10) and pip. Set PYTHON to choose the interpreter, and
# TORCH_SPEC to install another torch build (e.g. a CUDA one on a GPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
# torch first, pinned: an unpinned "torch" would pull a multi-GB CUDA build.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  "${PIP[@]}" install "$TORCH_SPEC"
fi
if ! .venv/bin/python -c "import pde_lib, nbval, papermill, distributed" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.pde_lib_installed ]; then
  "${PIP[@]}" install -e ".[dev]"
  touch .venv/.pde_lib_installed
fi
.venv/bin/python -c "from pde_lib.sweep.notebooks import ensure_kernel; ensure_kernel()"
echo "environment ready: $(.venv/bin/python -c 'import torch, pde_lib; print("torch", torch.__version__, "pde_lib", pde_lib.__version__)')"
