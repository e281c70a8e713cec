#!/usr/bin/env bash
# The arm64 package test (test/deploy/arm64.test.ts) runs the linux arm64 Lambda artifact on this
# x86_64 machine: Debian's user-mode emulator plus the arm64 C and C++ runtimes that Node 22 for
# arm64, tokenizers' addon and onnxruntime's library link against (found under
# /usr/aarch64-linux-gnu with `qemu-aarch64-static -L`). Idempotent and non-interactive: nothing
# happens when everything is present; `apt-get update` runs once, only when something is missing.
set -euo pipefail
PACKAGES=(qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross)
# Only x86_64 machines need the emulator: on arm64 the test runs the artifact natively.
if [ "$(uname -m)" != "x86_64" ]; then exit 0; fi
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The arm64 package test needs: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
