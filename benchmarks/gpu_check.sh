#!/usr/bin/env bash
# Every GPU check and benchmark of the project in one prepared run (the device machine has its
# own Python with torch, h5py, numpy and matplotlib, and no network).
#
#   here:    bash benchmarks/gpu_deps.sh              # tqdm, pytest, pyyaml into .gpu_deps/
#   device:  bash benchmarks/gpu_check.sh             # carry .gpu_deps; results under $OUT
#
# Steps (each logged to $OUT/<step>.txt, with a time limit, the next step runs even if one fails):
#   1. the CUDA tests: CUDA-graph training = eager training, for every backbone; stacked runs;
#   2. training throughput: eager baseline vs project loop vs stacked runs vs CUDA graphs;
#   3. pretraining step cost of every strategy on the GPU;
#   4. Burgers data generation on the GPU against the original scheme's baseline.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-outputs/gpu_check}
mkdir -p "$OUT"
export PYTHONPATH=".:.gpu_deps${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
PY=${PYTHON:-python}
T0=$(date +%s)

step() {  # step NAME LIMIT_S COMMAND...
    local name=$1 limit=$2
    shift 2
    local start
    start=$(date +%s)
    echo "== $name (limit ${limit}s, at +$((start - T0))s)"
    timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
    echo "   rc=$? after $(($(date +%s) - start))s"
    tail -n 40 "$OUT/$name.txt"
}

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
step env 60 $PY -c "import torch, sys; print(sys.version); print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
step tests_cuda 240 $PY -m pytest -q -p no:cacheprovider tests/test_training_stacked.py
step train_throughput 300 $PY benchmarks/train_throughput.py --devices cuda --runs 1,8,24 --steps 8 --repeats 5 --json "$OUT/train_throughput.json"
step pretrain_step 180 $PY benchmarks/pretrain_step.py --device cuda --clock wall --rounds 10
step data_generation 180 $PY benchmarks/data_generation.py --device cuda --batch 64 --repeats 2 --baseline-steps 2000
echo "== done in $(($(date +%s) - T0))s"
