#!/usr/bin/env bash
# Sets up what is missing, then runs every test with Node's built-in runner.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec node scripts/run-tests.mjs "$@"
