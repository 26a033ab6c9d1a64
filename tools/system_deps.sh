#!/usr/bin/env bash
# The Debian/Ubuntu packages the app and its tests need (Xvfb for the headless 3D view, Qt's xcb libraries,
# OpenGL). Installs the missing ones when it can (root or sudo, apt-get); otherwise names them and stops.
set -euo pipefail
PKGS=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
      libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libfontconfig1
      libdbus-1-3)
APT_GET=${APT_GET:-apt-get}
DPKG_QUERY=${DPKG_QUERY:-dpkg-query}
UID_NOW=${SYSTEM_DEPS_UID:-$(id -u)}  # tests set it to play a user without root
PYTHON=${PYTHON:-python3}
# Debian's python3 makes virtual environments only with python3-venv (ensurepip).
"$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 || PKGS+=(python3-venv)
if ! command -v "$DPKG_QUERY" >/dev/null 2>&1; then
  echo "system_deps: not a Debian/Ubuntu system (no dpkg-query); install Xvfb, OpenGL and Qt's xcb libraries yourself" >&2
  exit 0
fi
missing=()
for p in "${PKGS[@]}"; do
  "$DPKG_QUERY" -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$UID_NOW" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; fi
fi
if ! command -v "$APT_GET" >/dev/null 2>&1 || { [ "$UID_NOW" -ne 0 ] && [ -z "$SUDO" ]; }; then
  echo "missing system packages: ${missing[*]} -- run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO "$APT_GET" update -qq
$SUDO "$APT_GET" install -y -qq "${missing[@]}" >/dev/null
