#!/usr/bin/env bash
# One command (under 8 minutes on one GPU) over every CUDA path; records GPU timings in
# benchmarks/results/gpu_check.json. Usage from the repository root on a GPU machine:
#   bash benchmarks/gpu_check.sh            # installs the package into .venv-gpu if needed
# Fashion-MNIST (for the GAN stage) comes from Debian's package, or from a copy of its files in
# data/fashion-mnist (copy /usr/share/datasets/fashion-mnist there on a machine that has it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ -d data/fashion-mnist ]; then
    mkdir -p /usr/share/datasets && ln -sfn "$PWD/data/fashion-mnist" /usr/share/datasets/fashion-mnist || true
fi
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c "import transformrec, torch; assert torch.cuda.is_available()" 2>/dev/null; then
    "$PYTHON" -m venv --system-site-packages .venv-gpu
    PYTHON=.venv-gpu/bin/python
    "$PYTHON" -m pip install -q --no-deps -e . 2>/dev/null || "$PYTHON" -m pip install -q -e .
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
timeout 470 "$PYTHON" -m benchmarks.gpu_check "$@"
