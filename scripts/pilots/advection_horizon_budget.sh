#!/usr/bin/env bash
# Advection horizon pilot, second arm (issue 28): is the near horizon starved of steps? The same
# FNO2D `none` fine-tunes at 32 samples, target frames 8-12, seeds 0-2, with 2,000 AdamW steps
# (500 epochs of batch 8, 100 warm-up steps, gradient norm clipped at 1) instead of 120.
# Usage: scripts/pilots/advection_horizon_budget.sh DATA_DIR OUT_DIR (see advection_horizon.sh)
set -euo pipefail
data=${1:?data folder}; out=${2:?output folder}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
fno='{"width": 16, "modes": 4, "n_layers": 2, "projection_width": 32}'
for frame in 8 9 10 11 12; do
  for seed in 0 1 2; do
    run="$out/t${frame}_n32_s${seed}"
    [ -f "$run/metrics.json" ] && continue
    python -m pde_lib train --model fno2d --model-kwargs "$fno" --task fixed_future \
      --train "$data/train_id.h5" --valid "$data/valid_id.h5" --test "$data/test_id.h5" --pde advection \
      --samples 32 --epochs 500 --batch-size 8 --warmup-steps 100 --clip-grad-norm 1.0 \
      --target-frame "$frame" --seed "$seed" --out "$run" --overwrite --no-progress | tail -3
  done
done
echo "advection horizon budget arm finished"
