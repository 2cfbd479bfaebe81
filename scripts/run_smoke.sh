#!/usr/bin/env bash
# Set everything up, then run the main job: the smoke study on CPU (generate data, pretrain,
# fine-tune, render the reports). Output folder: $1 (default outputs/smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${1:-outputs/smoke}
.venv/bin/python -m pde_lib sweep parameters/smoke.yaml --out "$OUT"
echo "HTML reports: $OUT/reports/*.html   results table: $OUT/results.csv"
