#!/usr/bin/env bash
# Sets up what is missing (and builds), lints, then runs every test with Node's built-in runner.
# A lint error fails the suite before any test runs (the rules: biome.json, docs/layout.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
npx --no-install biome lint --diagnostic-level=error .
exec node scripts/run-tests.mjs "$@"
