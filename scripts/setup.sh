#!/usr/bin/env bash
# Set up predbench on a fresh Debian/Ubuntu machine: the Fashion-MNIST package, then the Python
# package with its test tools and Ray (the --executor ray tests). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist
fi
python -m pip install -q -e '.[dev,ray]'
