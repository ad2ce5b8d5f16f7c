#!/bin/bash
# Issue 8: the one device run that fills the GPU rows of docs/performance.md.
#
# PREPARE, here (not on the device), once, in the repo root (/work/main):
#   echo /.whl/ >> .git/info/exclude            # the wheels travel by `carry`, never committed
#   mkdir -p .whl && .venv/bin/python -m pip download -q --no-deps --only-binary=:all: \
#       --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
#       --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#       diffusers==0.42.1 sqlite-utils==4.2.1 sqlite-fts4==1.0.3
# (pure-Python wheels, 6.5 MB; The device
# image has torch 2.11, transformers, accelerate, huggingface-hub, safetensors,
# regex, click, pluggy, python-dateutil, tabulate: only diffusers and sqlite-utils
# (which previz_app.engine imports through the store) plus sqlite-fts4 are missing.)
#
# RUN, with the device tool, one call:
#   run(command="bash benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=560)
# then give_back. Everything lands in $OUT: sd15.json/.log, sdxl.json/.log, env.txt.
#
# Budget: ~8 minutes of a 15-minute lease. sd15 (all five workloads, --runs 3) gets at
# most 380 s; sdxl (speed only) runs only if 150 s are left of 480. Rows are printed and
# written to JSON as each finishes, so a timeout keeps the rows done so far.

START=$(date +%s)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site || { echo "wheel install failed"; exit 1; }
export PYTHONUNBUFFERED=1
{
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
    python3 -c "import sys, torch, diffusers, transformers; print(sys.version.split()[0], torch.__version__, 'cuda', torch.version.cuda, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name())"
    gcc --version | head -1
} 2>&1 | tee "$OUT/env.txt"

timeout 380 python3 benchmarks/bench_engine.py --shapes sd15 --runs 3 \
    --workloads speed quality previews variations warm --json "$OUT/sd15.json" 2>&1 | tee "$OUT/sd15.log"

LEFT=$((480 - ($(date +%s) - START)))
if [ "$LEFT" -ge 150 ]; then
    timeout "$LEFT" python3 benchmarks/bench_engine.py --shapes sdxl --runs 3 --workloads speed quality \
        --json "$OUT/sdxl.json" 2>&1 | tee "$OUT/sdxl.log"
else
    echo "sdxl skipped: only ${LEFT} s left of the 480 s plan" | tee "$OUT/sdxl.log"
fi
echo "total $(( $(date +%s) - START )) s"
