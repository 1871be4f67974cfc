#!/usr/bin/env bash
# Installs tinyrec's build dependencies from Debian 12 when any is missing (needs root or sudo).
set -euo pipefail
pkgs=(cmake g++ make libxtensor-dev libxtensor-blas-dev libopenblas-dev doctest-dev
      nlohmann-json3-dev libcli11-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
