#!/usr/bin/env bash
# Installs the Debian packages Ember needs. Idempotent and quiet when everything is present;
# uses sudo when not run as root. Every dependency is a Debian package (no downloads).
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config python3
  libfmt-dev libcli11-dev catch2 libbenchmark-dev nlohmann-json3-dev
  libopenblas-dev zlib1g-dev libfftw3-dev libopenmpi-dev openmpi-bin
  dataset-fashion-mnist graphviz
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
