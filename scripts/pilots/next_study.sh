#!/usr/bin/env bash
# The pilots that size the next study (issue 28 -> 29), one fine-tune at a time on one thread, in
# the order they were run on 2026-12-07: (1) convergence, cost and spread of FNO2D, U-Net and
# DeepONet2D; (2) DeepONet2D variants on Burgers; (3) FNO2D with a channel MLP, then the
# neuraloperator peer where it is installed; the 1,000-epoch check; OFormer2D last (not run then).
#   bash scripts/pilots/next_study.sh DATA_DIR OUT
# DATA_DIR holds train_id.h5, valid_id.h5, test_id.h5 (the laptop ID files, e.g. symlinks).
# Finished runs are skipped, so the script resumes. Tables: scripts/pilots/summarize_next_study.py
# (the commands are in each outputs/published/next_study_*/README.md).
# On 2026-12-07 deeponet2d_small was stopped after seed 0 and deeponet2d_small_wd was not run.
set -euo pipefail
data=${1:?DATA_DIR}; out=${2:?OUT}
run() { PYTHONPATH=. .venv/bin/python scripts/pilots/run_finetunes.py "$@"; }
run parameters/next_study_convergence.yaml "$data" "$out/next_study_convergence" --models fno2d,unet,deeponet2d
run parameters/next_study_deeponet.yaml "$data" "$out/next_study_deeponet" --pdes burgers \
  --models deeponet2d_wd,deeponet2d_small,deeponet2d_f2d
run parameters/next_study_fno_channel_mlp.yaml "$data" "$out/next_study_fno_channel_mlp"
if .venv/bin/python -c "import neuralop" 2>/dev/null; then
  PYTHONPATH=. .venv/bin/python scripts/pilots/neuralop_peer.py parameters/next_study_convergence.yaml "$data" \
    "$out/next_study_neuralop_peer"
fi
run parameters/next_study_long.yaml "$data" "$out/next_study_long" --seeds 0 --pdes heat
run parameters/next_study_convergence.yaml "$data" "$out/next_study_convergence" --models oformer2d
