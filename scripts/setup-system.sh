#!/usr/bin/env bash
# Installs the Debian packages recur's tests need: libvulkan1 (the Vulkan loader Dawn links against) and
# chromium (headless browser tests, and its SwiftShader Vulkan driver, which gives Dawn a WebGPU adapter
# on machines without a GPU). As root it installs what is missing; otherwise it says what to install and why.
set -euo pipefail

missing=()
dpkg -s libvulkan1 >/dev/null 2>&1 || missing+=(libvulkan1)
dpkg -s chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: libvulkan1 and chromium are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "setup-system: installing ${missing[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup-system: installed ${missing[*]}"
else
  echo "setup-system: missing Debian packages: ${missing[*]}"
  echo "  libvulkan1: the Vulkan loader; the 'webgpu' package (Dawn) needs it to run WebGPU in Node"
  echo "  chromium:   headless browser tests, and its SwiftShader Vulkan driver (a CPU WebGPU adapter)"
  echo "  install with: sudo apt-get install --no-install-recommends ${missing[*]}"
  exit 1
fi
