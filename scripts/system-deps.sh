#!/usr/bin/env bash
# Installs the Debian packages venustui's set-up and tests need, only those missing (idempotent).
set -euo pipefail

packages=(libvulkan1 libvulkan-dev mesa-vulkan-drivers gcc libc6-dev binutils openssh-server openssh-client)
# `system-deps.sh bench` adds what the benchmarks race against.
[[ "${1:-}" == bench ]] && packages+=(lnav)

# Debian's own python3 needs python3-venv for `python3 -m venv`; other pythons bring venv along.
PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  packages+=(python3 python3-venv)
elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  packages+=(python3-venv)
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "venustui set-up: installing ${missing[*]}"
  run=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then run=(sudo); else
      echo "venustui set-up: need root to install ${missing[*]} (run: apt-get install ${missing[*]})" >&2
      exit 1
    fi
  fi
  "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"venustui needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}")
PY
