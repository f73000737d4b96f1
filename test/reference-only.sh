#!/bin/sh
# Runs the hash/set differential and client tests (and the still pending *.pending.ts) with
# DIFF_REFERENCE_ONLY=1: every script and client test runs against a second redis-server
# instead of respql, which checks the scripts, their comparison shapes and the expected
# client results against Redis 7.0 today. Extra arguments go to mocha (e.g. --grep).
set -e
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
DIFF_REFERENCE_ONLY=1 exec npx mocha --no-config --timeout 60000 --require dist/test/setup/hooks.js "$@" \
  'dist/test/**/*.pending.js' dist/test/differential/hashes.test.js dist/test/differential/sets.test.js \
  dist/test/differential/typed.test.js dist/test/differential/random-typed.test.js dist/test/differential/session-clients.test.js \
  dist/test/clients/hashes-clients.test.js
