#!/usr/bin/env bash
# One command (under 8 minutes on one GPU) over every CUDA path; records GPU timings in
# benchmarks/results/gpu_check.json stage by stage. Usage from the repository root on a GPU machine:
#   bash benchmarks/gpu_check.sh [gpu_check options]
# A machine that reaches no package index gets what it lacks as wheels: run
# `bash benchmarks/gpu_machine/fetch_wheels.sh` where pip works, carry .whl/ along, and this script
# installs them into a private folder (--target, no index, no dependency resolution) and puts that
# folder and the repository on PYTHONPATH: nothing is built or installed into the machine's Python.
# Fashion-MNIST (for the GAN stage) comes from Debian's package, or from a copy of its files in
# data/fashion-mnist (copy /usr/share/datasets/fashion-mnist there on a machine that has it).
# PYTHON (default python3), WHEELS (default .whl) and SITE (default /tmp/transformrec-site) can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ -d data/fashion-mnist ]; then
    mkdir -p /usr/share/datasets && ln -sfn "$PWD/data/fashion-mnist" /usr/share/datasets/fashion-mnist || true
fi
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-.whl}
SITE=${SITE:-/tmp/transformrec-site}
if compgen -G "$WHEELS/*.whl" >/dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" "$WHEELS"/*.whl
    export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
# Fail here, in one line, rather than minutes later inside a stage.
if ! missing=$("$PYTHON" -c "
import importlib.util as u
names = ['torch', 'torchvision', 'pydantic', 'av', 'yaml', 'tqdm', 'matplotlib', 'tensorboard']
print(' '.join(n for n in names if u.find_spec(n) is None))
import transformrec.cli.main  # imports the whole package's dependencies
") || [ -n "$missing" ]; then
    echo "error: cannot import transformrec's dependencies (${missing:-see above}); run benchmarks/gpu_machine/fetch_wheels.sh and carry .whl" >&2
    exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
timeout 470 "$PYTHON" -m benchmarks.gpu_check "$@"
