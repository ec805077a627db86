#!/usr/bin/env bash
# Runs the probe once on a machine with an NVIDIA GPU and no network (the recipe of VENUS_LAB.md).
# Expects .gpu-kit/ beside this repo's files: debs/ (Debian's libvulkan1 and the glvnd libraries),
# wheels/ (cffi and pycparser for the machine's Python) and vulkan/ (the vulkan package folder).
# Writes OUT/fence.jsonl, OUT/map.jsonl and OUT/machine.txt.
set -euo pipefail
OUT=${OUT:?set OUT to a folder for the results}
kit=$(cd "$(dirname "$0")/.." && pwd)/.gpu-kit
for deb in "$kit"/debs/*.deb; do dpkg -x "$deb" /; done
ldconfig
py=$(mktemp -d)
for wheel in "$kit"/wheels/*.whl; do python3 -m zipfile -e "$wheel" "$py"; done
cp -r "$kit/vulkan" "$py/"
export PYTHONPATH="$py:$(cd "$(dirname "$0")/.." && pwd)"
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
unset VK_ICD_FILENAMES
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
{
  echo "date: $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
  python3 --version
  ldd --version | sed -n 1p
  grep PRETTY_NAME /etc/os-release || true
} > "$OUT/machine.txt"
for phase in fence map; do
  timeout 60 python3 -m venustui.probe.program --phase "$phase" --deadline 5 > "$OUT/$phase.jsonl" \
    2> "$OUT/$phase.stderr" || echo "phase $phase exited $?" >> "$OUT/machine.txt"
done
cat "$OUT/machine.txt"; tail -n 3 "$OUT"/fence.jsonl "$OUT"/map.jsonl
