#!/usr/bin/env bash
# Installs the Debian packages MemScope builds and tests with. Root runs apt-get; others use sudo.
set -euo pipefail
PKGS="libopenblas-dev libncurses-dev zlib1g-dev libssl-dev pkg-config tmux"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all installed ($PKGS)"; exit 0; }
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: no apt-get on this system; install these (or your system's equivalents) by hand:$missing" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: not root and no sudo; as root run: apt-get install$missing" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
