#!/bin/bash
# A/B of two builds of respql: the same redis-benchmark runs against each in turns (SQLite).
#   bash scripts/ab-builds.sh OLD_CHECKOUT NEW_CHECKOUT   (each built: dist/src/cli.js)
set -u
OLD=$1 NEW=$2
run() { # dir port
  local dir=$1 port=$2 db=/tmp/ab-$port.sqlite
  rm -f $db*
  (cd $dir && node dist/src/cli.js --port $port --database-url $db --loglevel warning >/tmp/ab-$port.log 2>&1 &)
  for i in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.2; done
}
stop() { redis-cli -p $1 shutdown nosave >/dev/null 2>&1; sleep 0.5; }
V=$(head -c 1024 /dev/zero | tr '\0' x)
for rep in 1 2 3; do
  for side in old new; do
    if [ $side = old ]; then dir=$OLD; port=7501; else dir=$NEW; port=7502; fi
    run $dir $port
    for t in "SET -P 1" "GET -P 1" "SET -P 16" "GET -P 16"; do
      set -- $t
      r=$(redis-benchmark -p $port -c 50 -r 100000 -n 20000 -d 1024 -P $3 -q -t $(echo $1 | tr A-Z a-z) 2>/dev/null | grep -o '[0-9.]* requests per second' | head -1 | cut -d' ' -f1)
      echo "$rep $side $1 -P$3 $r"
    done
    stop $port
  done
done
