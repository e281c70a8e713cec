#!/usr/bin/env bash
# The arm64 package test (test/deploy/arm64.test.ts) runs the linux arm64 Lambda artifact on this
# x86_64 machine: Debian's user-mode emulator plus the arm64 C and C++ runtimes that Node 22 for
# arm64, tokenizers' addon and onnxruntime's library link against (found under
# /usr/aarch64-linux-gnu with `qemu-aarch64-static -L`). Idempotent and non-interactive: nothing
# happens when everything is present; `apt-get update` runs once, only when something is missing.
# Run by `npm test` (pretest). Never fails the run: without root it says what to install and exits 0,
# so that only the arm64 test fails (with its own message). As root it installs, waiting for
# another apt's dpkg lock.
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
  echo "ensure-qemu-arm64: the arm64 package test will fail; it needs: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Wait up to 2 minutes for another apt/dpkg (unattended upgrades, a parallel install) to finish.
LOCK_WAIT=(-o DPkg::Lock::Timeout=120)
apt-get "${LOCK_WAIT[@]}" update -qq
apt-get "${LOCK_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
