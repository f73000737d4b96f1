#!/bin/sh
# Builds respql's runtime tree: scripts/build-image.sh SOURCE_DIR TARGET_DIR
#
# In a scratch directory: npm ci (all dependencies, compiling better-sqlite3 if no
# prebuilt binary can be had), tsc for src/ only, then npm prune --omit=dev (and the type declarations). TARGET_DIR
# receives package.json, package-lock.json, dist/ and node_modules/ (production only):
# run it with `node TARGET_DIR/dist/src/cli.js`. The Dockerfile's build stage runs this
# script; test/ops/build-image.test.ts runs it too, since CI has no Docker engine.
#
# Environment: BUILD_DIR (default: a fresh temp dir, removed afterwards),
# npm's own settings (npm_config_cache, npm_config_better_sqlite3_local_prebuilds, ...).
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 SOURCE_DIR TARGET_DIR" >&2
  exit 2
fi
SRC=$(cd "$1" && pwd)
mkdir -p "$2"
TARGET=$(cd "$2" && pwd)

if [ -n "${BUILD_DIR:-}" ]; then
  STAGE=$BUILD_DIR
  mkdir -p "$STAGE"
else
  STAGE=$(mktemp -d "${TMPDIR:-/tmp}/respql-build.XXXXXX")
  trap 'rm -rf "$STAGE"' EXIT
fi

echo "build-image: staging $SRC in $STAGE" >&2
for f in package.json package-lock.json tsconfig.json knexfile.ts; do
  cp "$SRC/$f" "$STAGE/$f"
done
rm -rf "$STAGE/src"
cp -R "$SRC/src" "$STAGE/src"

# Only the server goes into the image: compile src/ and the knexfile, not tests or scripts.
cat > "$STAGE/tsconfig.image.json" <<'JSON'
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "types": ["node"], "sourceMap": false, "declaration": false, "incremental": false },
  "include": ["src", "knexfile.ts"]
}
JSON

cd "$STAGE"
# --ignore-scripts would skip better-sqlite3's native build, so keep scripts but stop
# the package's own "prepare" (a full tsc of src, test and scripts) from running here.
npm pkg delete scripts.prepare >/dev/null
npm ci --no-audit --no-fund
rm -rf dist
npx --no-install tsc -p tsconfig.image.json
npm prune --omit=dev --no-audit --no-fund
# Type declarations are never loaded at run time; mysql2 declares @types/node as a peer,
# which keeps it in the production tree.
rm -rf node_modules/@types
# better-sqlite3 needs only its lib/ and the compiled addon at run time: drop the SQLite
# sources and the compiler's intermediate files (~25 MB when it was built from source).
B=node_modules/better-sqlite3
test -f "$B/build/Release/better_sqlite3.node"
rm -rf "$B/deps" "$B/src" "$B/build/deps" "$B/build/Release/obj" "$B/build/Release/obj.target" \
  "$B/build/Release/.deps" "$B/build/Release/test_extension.node"

echo "build-image: copying the runtime tree to $TARGET" >&2
rm -rf "$TARGET/dist" "$TARGET/node_modules"
cp -R dist node_modules "$TARGET/"
cp package-lock.json "$TARGET/"
# The installed package.json is the source one (with its prepare script) for npm's sake.
cp "$SRC/package.json" "$TARGET/package.json"
chmod +x "$TARGET/dist/src/cli.js"
echo "build-image: done ($(du -sh "$TARGET" | cut -f1))" >&2
