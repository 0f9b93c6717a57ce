#!/usr/bin/env bash
# Every seed claim ablated on the `small` design, 3 seeds, fashion-canvas at 48 px, 400 AdamW steps per run.
# Finished runs are cached in benchmarks/results/ablations/cache (re-running only trains what is missing).
#   bash benchmarks/run_ablations.sh            # about 40 s per run on one CPU core, 60 runs
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
OUT=benchmarks/results/ablations
COMMON=(--base small --seeds 3 --data fashion-canvas --size 48 --n-train 4000 --steps 400 --lr 0.003 --cache "$OUT/cache")
run() { local name=$1; shift; "$PY" -m idfy ablate "${COMMON[@]}" --out "$OUT/$name" "$@"; }
run s8_block_order --vary block.order=original,bn_after_add,relu_before_add,relu_preact
run s9_input_scale --vary input.scale=1,255
run s1_injection   --vary injection=none,stem,stages,head,all
run s1d_resize     --vary inject.mode=bilinear,area
run s2a_gaussian   --vary gaussian=on
run s2b_dense      --vary dense=none,fc
run s5_downsample  --vary stages.*.down=maxpool,conv
run s7_convs       --vary convs=regular
