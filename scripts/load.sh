#!/usr/bin/env bash
# Bounded load on loopback against the release server: /v1/search and /v1/answer with
# realistic query mixes (the labelled tickets and pasted errors) at 1, 8 and 32 connections,
# then 32 connections on /v1/search while the admin endpoint reindexes three times.
# Usage: scripts/load.sh [--kb DIR] [--seconds N]   (default: the bundled kb/, 10 s a run)
# Installs wrk with apt when it is missing. Reports requests/s, p50, p99, errors, peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
KB=kb; SECS=10; PORT=${DEFLECT_LOAD_PORT:-18080}
while [ $# -gt 0 ]; do
  case "$1" in
    --kb) KB=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x target/release/deflect ] || cargo build --release
WORK=$(mktemp -d); trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
tickets = [json.loads(l)["text"].replace("\n", " ") for l in open("tests/fixtures/tickets.jsonl")]
open(f"{w}/tickets.txt", "w").write("\n".join(tickets) + "\n")
short = [t for t in tickets if len(t) <= 40] + ["ssh 连不上", "502", "欠费停机", "云盘扩容", "证书过期", "rds 慢查询", "oss 403", "cdn 刷新不生效"]
open(f"{w}/search.txt", "w").write("\n".join(short + tickets[:60]) + "\n")
PY
export DEFLECT_ADMIN_KEY=load-test-admin-key-0123456789
target/release/deflect serve --kb "$KB" --index "$WORK/index" --listen 127.0.0.1:$PORT > "$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.5; done
grep -m1 "serving" "$WORK/serve.log" || true
run() { # mode conns
  DEFLECT_MODE=$1 DEFLECT_QUERIES=$WORK/$([ $1 = answer ] && echo tickets || echo search).txt \
    wrk -t$([ $2 -lt 2 ] && echo 1 || echo 2) -c$2 -d${SECS}s -s scripts/load.lua http://127.0.0.1:$PORT 2>&1 | grep RESULT | sed "s/RESULT/$1 c=$2/"
}
for mode in search answer; do for c in 1 8 32; do run $mode $c; done; done
echo "reindex under load:"
( sleep 1; for _ in 1 2 3; do curl -s -o /dev/null -w "reindex %{http_code} %{time_total}s\n" -XPOST -H "authorization: Bearer $DEFLECT_ADMIN_KEY" http://127.0.0.1:$PORT/v1/admin/reindex; done ) &
RPID=$!
run search 32
wait $RPID
echo "peak RSS of the server: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
