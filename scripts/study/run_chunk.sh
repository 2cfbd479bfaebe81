#!/usr/bin/env bash
# Run one pre-registered chunk of the study v2 (docs/preregistration.md, section 8) and publish it.
#
#   bash scripts/study/run_chunk.sh K            (MACHINE=parameters/machines/X.yaml to run elsewhere)
#
# K is a chunk number (parameters/study_chunks/chunk_K.yaml: the study with that chunk's seeds).
# The sweep folder outputs/sweeps/study_v2_chunk_K resumes if the run is interrupted; when every
# cell is done the chunk is published to outputs/published/study_v2/chunk_K (results, parameters,
# data checksums, run log, git commit). No report is rendered per chunk: nothing is analysed
# between chunks. Commit the published folder at once (the command to do so is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${1:?usage: run_chunk.sh K [sweep options]}"; shift
PARAMS="parameters/study_chunks/chunk_${K}.yaml"
[ -f "$PARAMS" ] || { echo "no chunk file $PARAMS (chunks: $(ls parameters/study_chunks | tr '\n' ' '))" >&2; exit 2; }
PY="${PYTHON:-.venv/bin/python}"
SWEEP="outputs/sweeps/study_v2_chunk_${K}"
DEST="outputs/published/study_v2/chunk_${K}"
if [ -e "$DEST" ]; then echo "$DEST exists: chunk $K is already published" >&2; exit 3; fi
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "the work tree has uncommitted changes: a chunk must run from one clean commit" >&2; exit 4
fi
start=$(date +%s)
# a cell that failed for a transient reason (e.g. a notebook kernel that died at start-up) is
# retried by resuming the sweep, at most twice; finished cells are never re-run
for attempt in 1 2 3; do
  if "$PY" -m pde_lib sweep "$PARAMS" --out "$SWEEP" --machine "${MACHINE:-parameters/machines/local_cpu_study.yaml}" \
      --no-reports "$@"; then break; fi
  [ "$attempt" = 3 ] && { echo "chunk $K: cells still failing after 3 attempts (see above); not published" >&2; exit 5; }
  echo "chunk $K: resuming the sweep (attempt $((attempt + 1)) of 3)" >&2
done
"$PY" -m pde_lib publish "$SWEEP" "$DEST"
echo "chunk $K: $(( $(date +%s) - start )) s wall (this invocation); published to $DEST"
echo "commit it now:  git add $DEST && git commit -m 'study v2: chunk $K published'"
