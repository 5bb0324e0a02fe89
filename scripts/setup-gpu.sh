#!/usr/bin/env bash
# Make a WebGPU adapter available to Dawn (the `webgpu` npm package) on this machine, and
# Chromium for the browser tests.
#
# Idempotent. Order of attempts:
#   1. An adapter already works (real GPU driver, or lavapipe installed earlier): do nothing.
#   2. Debian/Ubuntu as root: install Mesa's lavapipe (software Vulkan). Debian 12's own Mesa
#      (22.x) is rejected by Dawn, so on bookworm we add bookworm-backports (Mesa 25), reusing the
#      URI and keyring of the existing Debian apt source.
#   3. Otherwise: print what to install, and exit 1.
# Needs `npm ci` to have run first (the probe uses node_modules/webgpu).
set -euo pipefail
cd "$(dirname "$0")/.."

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

probe() { node scripts/probe-adapter.mjs >/dev/null 2>&1; }

# Chromium, for the browser tests and the web app (WebGPU on SwiftShader, no GPU needed).
have_chromium() { command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "${CRAB_CHROMIUM:-}" ]; }
if ! have_chromium; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup-gpu: installing Chromium (browser tests, web app)…"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "setup-gpu: no Chromium found; the browser tests need it: install the chromium package (or set CRAB_CHROMIUM to a Chrome/Chromium binary)" >&2
  fi
fi

if probe; then
  echo "setup-gpu: a WebGPU adapter is already available: $(node scripts/probe-adapter.mjs)"
  exit 0
fi

advise() {
  cat >&2 <<'TXT'
setup-gpu: no WebGPU adapter found, and this script cannot install one here.
Install a Vulkan driver that Dawn accepts, then run this script again:
  - a real GPU: the vendor's Vulkan driver (NVIDIA, AMD/Intel Mesa >= 23) and libvulkan1;
  - no GPU: Mesa's lavapipe >= 24 (package mesa-vulkan-drivers; on Debian 12 take it from
    bookworm-backports: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1).
Also set XDG_RUNTIME_DIR (any writable folder) if it is unset.
TXT
  exit 1
}

[ "$(id -u)" = 0 ] || advise
command -v apt-get >/dev/null || advise

codename=$( . /etc/os-release && echo "${VERSION_CODENAME:-}")
export DEBIAN_FRONTEND=noninteractive
if [ "$codename" = bookworm ]; then
  src=/etc/apt/sources.list.d/crab-ser-backports.sources
  if [ ! -f "$src" ]; then
    # Reuse the URI and keyring of the existing Debian deb822 entry (mirrors differ per machine).
    base=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | xargs -r grep -l 'bookworm' | head -n1 || true)
    uri=http://deb.debian.org/debian; key=/usr/share/keyrings/debian-archive-keyring.gpg
    if [ -n "$base" ]; then
      uri=$(awk '/^URIs:/{print $2; exit}' "$base")
      k=$(awk '/^Signed-By:/{print $2; exit}' "$base"); [ -n "$k" ] && key=$k
    fi
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
      "$uri" "$key" > "$src"
    echo "setup-gpu: added $src ($uri)"
  fi
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
else
  apt-get update -qq
  apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

if probe; then
  echo "setup-gpu: installed lavapipe; adapter: $(node scripts/probe-adapter.mjs)"
else
  node scripts/probe-adapter.mjs || true
  advise
fi
