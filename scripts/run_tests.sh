#!/usr/bin/env bash
# Set everything up, then run the whole test suite: pytest unit tests and the nbval regression
# tests of the notebooks. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYTHONHASHSEED=0
.venv/bin/python -m pytest tests "$@"
.venv/bin/python -m pytest --nbval-lax --nbval-current-env \
  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks/*.ipynb
