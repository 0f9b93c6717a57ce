#!/usr/bin/env bash
# The demo's own runs for benchmarks/results/time_to_accuracy.{md,json,png}: the default demo exactly as
# `python -m idfy train` runs it (preset demo, TrainConfig()), three seeds, BUDGET seconds of wall time from
# Start each, two torch threads; merged with the model rows already in ROWS (the timm baselines and the idfy
# designs, kept with their own clock) and the engine-against-bare-loop figure measured again.
# About 4 minutes for BUDGET=60: run it on an otherwise idle machine (the load is recorded beside each run).
#
#   benchmarks/run_time_to_accuracy.sh                      # the committed results
#   BUDGET=3 OVERHEAD=10 OUT=/tmp/tta benchmarks/run_time_to_accuracy.sh   # smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BUDGET=${BUDGET:-60}
OUT=${OUT:-benchmarks/results}
OVERHEAD=${OVERHEAD:-40}
ROWS=${ROWS:-benchmarks/results/time_to_accuracy.json}
export OMP_NUM_THREADS=2
exec "$PY" benchmarks/time_to_accuracy.py --rows-from "$ROWS" --seeds 0 1 2 --demo-budget "$BUDGET" \
    --threads 2 --clock wall --overhead-steps "$OVERHEAD" --out "$OUT"
