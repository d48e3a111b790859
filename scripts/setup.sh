#!/usr/bin/env bash
# Set up predbench on a fresh Debian/Ubuntu machine: the Fashion-MNIST package, then the Python
# package with its test tools and Ray (the --executor ray tests). Safe to run again.
#
# pip installs into the interpreter that runs it ($PYTHON, default `python`, else `python3`).
# Where that interpreter is externally managed (PEP 668: Debian 12, Ubuntu 23.04 and later refuse
# `pip install` into the system Python), set-up makes the project environment .venv/ instead,
# installs into it, and `. scripts/activate` then puts it first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python || command -v python3)}"
MANAGED=0
"$PYTHON" scripts/externally_managed.py && MANAGED=1
PACKAGES=()
[ ! -d /usr/share/datasets/fashion-mnist ] && PACKAGES+=(dataset-fashion-mnist)
if [ "$MANAGED" = 1 ] && [ ! -x .venv/bin/python ] && ! "$PYTHON" -c "import ensurepip" 2>/dev/null; then
  PACKAGES+=(python3-venv)  # Debian ships venv's pip bootstrap separately
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ "${#PACKAGES[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${PACKAGES[@]}"
fi
# Debian's Chromium and its driver: the test that renders `predbench report`'s HTML in a headless
# browser (skipped where they are missing, e.g. where a distribution ships Chromium only as a snap).
if { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; } \
    && command -v apt-get >/dev/null 2>&1; then
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      chromium chromium-driver; } || echo "chromium not installed: the browser test will skip"
fi
if [ "$MANAGED" = 1 ]; then
  echo "$PYTHON is externally managed (PEP 668): installing into the project environment .venv/"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  PYTHON=.venv/bin/python
  "$PYTHON" -m pip install -q torch==2.13.0  # first, so the pinned wheel found here is the one used
fi
"$PYTHON" -m pip install -q -e '.[dev,ray]'
if [ "$MANAGED" = 1 ]; then
  echo "set up in .venv/; in this shell, \`. scripts/activate\` makes predbench and python use it"
fi
