#!/usr/bin/env bash
# The Debian packages the test suite uses beyond Python: a real browser for the chat page's test
# (chromium + chromium-driver) and Bazel for the BUILD check (bazel-bootstrap). All install offline
# from Debian's archive. Without root or apt the step is skipped with a note, and the tests that
# need these programs skip with a reason.
set -euo pipefail
PACKAGES=(chromium chromium-driver bazel-bootstrap)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system_packages: not root or no apt-get: ${missing[*]} not installed (their tests skip)" >&2
  exit 0
fi
echo "system_packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq "${missing[@]}" >/dev/null
