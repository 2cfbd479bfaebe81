#!/usr/bin/env bash
# Re-run cells of a published chunk of the study v2 and compare them with it, fine-tune by
# fine-tune (docs/preregistration.md, section 8: a chunk may be re-run to check reproduction):
#
#   bash scripts/study/check_reproduction.sh K [N]
#
# The N cells (default 2) are drawn from chunk K's published cells by a generator seeded with
# "study_v2 chunk K" (fixed before any run: the choice does not depend on the results). They run
# with `sweep --cells` into outputs/sweeps/study_v2_repro_K (the same chunk file and data folder)
# and are compared with outputs/published/study_v2/chunk_K (scripts/compare_results.py); the
# summary goes to outputs/published/study_v2/chunk_K/reproduction.txt. On CPU the same commit, data
# and seed give bitwise-equal errors. PUBLISHED, CHUNKS (the folder of chunk_K.yaml), OUT and
# MACHINE override the defaults (a dry run on a micro study uses them).
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${1:?usage: check_reproduction.sh K [N]}"; N="${2:-2}"
PY="${PYTHON:-.venv/bin/python}"
PUB="${PUBLISHED:-outputs/published/study_v2}/chunk_${K}"
PARAMS="${CHUNKS:-parameters/study_chunks}/chunk_${K}.yaml"
[ -f "$PUB/results.csv" ] || { echo "$PUB/results.csv: chunk $K is not published" >&2; exit 2; }
CELLS=$("$PY" - "$PUB/results.csv" "$K" "$N" <<'PY'
import random, sys
import pandas as pd
cells = sorted(pd.read_csv(sys.argv[1], usecols=["cell_id"])["cell_id"].unique())
print(",".join(sorted(random.Random(f"study_v2 chunk {sys.argv[2]}").sample(cells, int(sys.argv[3])))))
PY
)
echo "chunk $K: re-running cells $CELLS"
OUT="${OUT:-outputs/sweeps/study_v2_repro_${K}}"
"$PY" -m pde_lib sweep "$PARAMS" --out "$OUT" --cells "$CELLS" \
  --machine "${MACHINE:-parameters/machines/local_cpu_study.yaml}" --no-reports
SUMMARY=$("$PY" scripts/compare_results.py "$PUB" "$OUT")
COMMIT=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || COMMIT="$COMMIT with uncommitted changes"
printf 'reproduction check of %s: cells %s re-run at commit %s on %s\n%s\n' "$PUB" "$CELLS" "$COMMIT" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SUMMARY" > "$PUB/reproduction.txt"
cat "$PUB/reproduction.txt"
