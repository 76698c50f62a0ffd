#!/usr/bin/env bash
# Sets up what is missing, then brings the local grid up (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec ./bin/grid up "$@"
