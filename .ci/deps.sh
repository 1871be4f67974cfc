#!/usr/bin/env bash
# Installs tinyrec's build dependencies from Debian 12 when any is missing (needs root or sudo).
# `deps.sh sanitize` also installs what the sanitizer preset needs: clang and its runtimes (ASan,
# UBSan, libFuzzer), which Debian 12 ships in libclang-rt-dev, a package clang only recommends.
set -euo pipefail
pkgs=(cmake g++ make libxtensor-dev libxtensor-blas-dev libopenblas-dev doctest-dev
      nlohmann-json3-dev libcli11-dev)
[ "${1:-}" = sanitize ] && pkgs+=(clang libclang-rt-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  # Another apt-get (a data script's, in CI's background) may hold the lock: wait for it.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    "${missing[@]}"
fi
