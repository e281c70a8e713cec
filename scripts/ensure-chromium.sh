#!/usr/bin/env bash
# The IDE's browser test drives Debian's Chromium with playwright-core (never a browser download).
# Run by `npm test` (pretest). Never fails the run: when Chromium is missing and this is not root,
# it says how to install it and exits 0, so that only the browser tests fail (with the same advice,
# test/helpers/chromium.ts). As root it installs Debian's package, waiting for another apt's lock.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "ensure-chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable; the browser tests will fail until it is (or unset it to use Debian's /usr/bin/chromium)." >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: Chromium is missing, so the browser tests will fail. Install it with 'sudo apt-get install -y chromium' (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium binary." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Wait up to 2 minutes for another apt/dpkg (unattended upgrades, a parallel install) to finish.
LOCK_WAIT=(-o DPkg::Lock::Timeout=120)
apt-get "${LOCK_WAIT[@]}" update -qq
apt-get "${LOCK_WAIT[@]}" install -y -qq chromium >/dev/null
