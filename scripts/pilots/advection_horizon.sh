#!/usr/bin/env bash
# Advection horizon pilot (issue 28): which fixed-future target frame can the laptop-size FNO2D
# learn from frames 0-7? `none` (from scratch), laptop fine-tune settings (60 epochs, batch 16,
# AdamW lr 1e-3, cosine), 32 and 100 samples, seeds 0-2, target frames 8..31 (a subset).
# One torch thread, one run at a time. Data: laptop sizes (100 / 32 / 32 per PDE, 32^2, seed 0):
#   python -m pde_lib generate --pdes heat,advection,burgers --split train --distribution id \
#       --samples-per-pde 100 --resolution 32 --seed 0 --out DATA/train_id.h5   (valid, test: 32)
# Usage: scripts/pilots/advection_horizon.sh DATA_DIR OUT_DIR
set -euo pipefail
data=${1:?data folder}; out=${2:?output folder}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
fno='{"width": 16, "modes": 4, "n_layers": 2, "projection_width": 32}'
for frame in 8 9 10 11 12 14 16 20 24 31; do
  for n in 32 100; do
    for seed in 0 1 2; do
      run="$out/t${frame}_n${n}_s${seed}"
      [ -f "$run/metrics.json" ] && continue
      python -m pde_lib train --model fno2d --model-kwargs "$fno" --task fixed_future \
        --train "$data/train_id.h5" --valid "$data/valid_id.h5" --test "$data/test_id.h5" --pde advection \
        --samples "$n" --epochs 60 --batch-size 16 --target-frame "$frame" --seed "$seed" \
        --out "$run" --overwrite --no-progress | tail -3
    done
  done
done
echo "advection horizon pilot finished"
