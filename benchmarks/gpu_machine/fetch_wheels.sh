#!/usr/bin/env bash
# Downloads the wheels the lent GPU machine lacks (benchmarks/gpu_machine/wheels.txt) into .whl/,
# a git-ignored folder that travels with the working tree (`carry: [".whl"]`); gpu_check.sh installs
# them there without an index. Run it from anywhere on a machine that reaches PyPI:
#   bash benchmarks/gpu_machine/fetch_wheels.sh              # CPython 3.12, the GPU machine's
#   PYTHON_VERSION=3.11 WHEELS=/tmp/w bash benchmarks/gpu_machine/fetch_wheels.sh   # a rehearsal here
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON_VERSION=${PYTHON_VERSION:-3.12}
WHEELS=${WHEELS:-.whl}
mkdir -p "$WHEELS"
platforms=()
for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
    manylinux2014_x86_64 manylinux1_x86_64; do
    platforms+=(--platform "$tag")
done
grep -v -e '^#' -e '^$' benchmarks/gpu_machine/wheels.txt | while read -r pin; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PYTHON_VERSION" \
        --implementation cp "${platforms[@]}" -d "$WHEELS" "$pin"
done
echo "wheels for CPython $PYTHON_VERSION in $WHEELS:"
ls -1 "$WHEELS"
du -sh "$WHEELS"
