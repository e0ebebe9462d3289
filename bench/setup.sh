#!/usr/bin/env bash
# Install what the benchmarks need beyond the Python packages: OpenJPH's command-line tools.
set -euo pipefail
if command -v ojph_expand >/dev/null 2>&1; then
    echo "ojph_expand: $(command -v ojph_expand)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq openjph-tools
command -v ojph_expand
