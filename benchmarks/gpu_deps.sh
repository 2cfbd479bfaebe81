#!/usr/bin/env bash
# Pure-Python packages the GPU checks need beyond the device machine's own Python (torch, h5py,
# numpy, matplotlib): installed here into .gpu_deps/ (git-ignored), carried to the device with
# the run, and put on PYTHONPATH by benchmarks/gpu_check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu_deps
python -m pip install --quiet --no-deps --target .gpu_deps tqdm pytest pluggy iniconfig packaging pygments pyyaml
du -sh .gpu_deps
