#!/usr/bin/env bash
# Bounded load on loopback against the release server: /v1/search and /v1/answer with
# realistic query mixes (the labelled tickets and pasted errors) at 1, 8 and 32 connections,
# then 32 connections on /v1/search while the admin endpoint reindexes three times, then
# /readyz probe latency on the main port and on `--ops-listen` under a 1,000-connection flood.
# Usage: scripts/load.sh [--kb DIR] [--seconds N] [--peer lucene]   (default: the bundled kb/, 10 s a run)
# Installs wrk with apt when it is missing. Reports requests/s, p50, p99, errors, peak RSS.
# --peer lucene: afterwards stops deflect, indexes the same KB with the Lucene 8.8 + SmartChineseAnalyzer
# peer (scripts/peers/lucene-smartcn), runs the same search/answer mixes against it at 1, 8 and 32
# connections and prints deflect/peer ratios. DEFLECT_PEER_WARMUP=N gives the JVM N unmeasured seconds per mode first.
set -euo pipefail
cd "$(dirname "$0")/.."
KB=kb; SECS=10; PORT=${DEFLECT_LOAD_PORT:-18080}; PEER=; PEER_PORT=${DEFLECT_PEER_PORT:-18090}; OPS_PORT=${DEFLECT_OPS_PORT:-18070}; PEER_PID=
while [ $# -gt 0 ]; do
  case "$1" in
    --kb) KB=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    --peer) PEER=$2; shift; [ "$PEER" = lucene ] || { echo "unknown peer $PEER (known: lucene)" >&2; exit 2; } ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x target/release/deflect ] || cargo build --release
WORK=$(mktemp -d); trap 'kill ${PID:-} 2>/dev/null || true; [ -z "${PEER_PID:-}" ] || kill $PEER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
tickets = [json.loads(l)["text"].replace("\n", " ") for l in open("tests/fixtures/tickets.jsonl")]
open(f"{w}/tickets.txt", "w").write("\n".join(tickets) + "\n")
short = [t for t in tickets if len(t) <= 40] + ["ssh 连不上", "502", "欠费停机", "云盘扩容", "证书过期", "rds 慢查询", "oss 403", "cdn 刷新不生效"]
open(f"{w}/search.txt", "w").write("\n".join(short + tickets[:60]) + "\n")
PY
export DEFLECT_ADMIN_KEY=load-test-admin-key-0123456789
# Offline reindex first (time, peak RSS), then start-up on the existing index.
python3 - "$WORK/reindex.txt" target/release/deflect reindex --kb "$KB" --index "$WORK/index" --json <<'PY'
import json, resource, subprocess, sys, time
t = time.time(); out = subprocess.run(sys.argv[2:], capture_output=True, text=True, check=True).stdout
secs = time.time() - t; rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
d = json.loads(out)
line = f"deflect reindex: {d['files']} files, {d['entries']} entries, {secs:.2f} s, {d['bytes'] / secs / 1e6:.1f} MB/s, {d['files'] / secs:.0f} files/s, index {d['index_bytes'] / 1e6:.1f} MB, peak RSS {rss:.0f} MB"
print(line); open(sys.argv[1], "w").write(line + "\n")
PY
T0=$(date +%s.%N)
target/release/deflect serve --kb "$KB" --index "$WORK/index" --listen 127.0.0.1:$PORT --ops-listen 127.0.0.1:$OPS_PORT > "$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 1200); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.05; done
echo "deflect ready in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')s (process start to /readyz 200, existing index)"
grep -m1 "serving" "$WORK/serve.log" || true
run() { # mode conns [port]
  DEFLECT_MODE=$1 DEFLECT_QUERIES=$WORK/$([ $1 = answer ] && echo tickets || echo search).txt \
    wrk -t$([ $2 -lt 2 ] && echo 1 || echo 2) -c$2 -d${SECS}s -s scripts/load.lua http://127.0.0.1:${3:-$PORT} 2>&1 | grep RESULT | sed "s/RESULT/$1 c=$2/"
}
for mode in search answer; do for c in 1 8 32; do run $mode $c | tee -a "$WORK/deflect.results"; done; done
echo "peak RSS of the server while serving: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
echo "reindex under load:"
( sleep 1; for _ in 1 2 3; do curl -s -o /dev/null -w "reindex %{http_code} %{time_total}s\n" -XPOST -H "authorization: Bearer $DEFLECT_ADMIN_KEY" http://127.0.0.1:$PORT/v1/admin/reindex; done ) &
RPID=$!
run search 32
wait $RPID
# Requests refused or failed so far, by route and status, from the server's own counters
# (wrk counts 4xx/5xx without telling them apart).
curl -s http://127.0.0.1:$OPS_PORT/metrics | awk '/^deflect_http_requests_total/ && !/status="2/ { print "  not 2xx so far: " $0 }'
echo "peak RSS of the server, three live reindexes included: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
echo "RSS of the server after the live reindexes: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MB"}')"
echo "/readyz under a 1,000-connection search flood (10 probes each, every 0.3 s):"
( DEFLECT_MODE=search DEFLECT_QUERIES=$WORK/search.txt wrk -t2 -c1000 -d$((SECS + 15))s -s scripts/load.lua \
    http://127.0.0.1:$PORT 2>&1 | grep RESULT | sed "s/RESULT/flood search c=1000/" ) &
FPID=$!
sleep 3
for _ in $(seq 1 10); do
  echo "$(curl -s -o /dev/null -m 30 -w '%{time_total}' http://127.0.0.1:$PORT/readyz) $(curl -s -o /dev/null -m 30 -w '%{time_total}' http://127.0.0.1:$OPS_PORT/readyz)"
  sleep 0.3
done | python3 -c '
import sys
rows = [[float(x) for x in l.split()] for l in sys.stdin if l.strip()]
for i, name in ((0, "main port"), (1, "ops_listen")):
    v = sorted(r[i] for r in rows)
    print(f"  {name:10s} median {v[len(v) // 2] * 1000:8.1f} ms, max {v[-1] * 1000:8.1f} ms")
'
wait $FPID
[ -n "$PEER" ] || exit 0

# ---- peer: Lucene 8.8 + SmartChineseAnalyzer, alone on the machine (deflect stopped first).
kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true
PEER_RUN=scripts/peers/lucene-smartcn/run.sh
PEER_INDEX=$("$PEER_RUN" index "$KB" "$WORK/peer-index" | grep PEER_INDEX)
echo "peer reindex: $PEER_INDEX"
T0=$(date +%s.%N)
"$PEER_RUN" serve "$WORK/peer-index" $PEER_PORT > "$WORK/peer.log" 2>&1 &
PEER_PID=$!
for _ in $(seq 1 1200); do curl -sf http://127.0.0.1:$PEER_PORT/readyz >/dev/null && break; sleep 0.05; done
curl -sf http://127.0.0.1:$PEER_PORT/readyz >/dev/null || { echo "peer did not become ready:" >&2; cat "$WORK/peer.log" >&2; exit 1; }
echo "lucene-smartcn ready in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')s"
WARM=${DEFLECT_PEER_WARMUP:-0} # optional JIT warm-up seconds per mode, not measured (default none: same runs as deflect)
if [ "$WARM" -gt 0 ]; then
  for mode in search answer; do SECS=$WARM run $mode 8 $PEER_PORT >/dev/null; done
  echo "lucene-smartcn warmed up for ${WARM}s per mode (not measured)"
fi
for mode in search answer; do for c in 1 8 32; do
  run $mode $c $PEER_PORT | tee -a "$WORK/peer.results" | sed 's/^/lucene-smartcn /'
done; done
echo "peak RSS of lucene-smartcn: $(grep VmHWM /proc/$PEER_PID/status | awk '{print $2/1024 " MB"}')"
echo "deflect / lucene-smartcn (rps ratio > 1: deflect serves more; p99 ratio > 1: deflect's tail is shorter):"
awk '
  function field(line, key,   i, n, kv) { n = split(line, kv, " "); for (i = 1; i <= n; i++) if (index(kv[i], key "=") == 1) return substr(kv[i], length(key) + 2); return "" }
  FNR == NR { d[$1 " " $2] = $0; next }
  { k = $1 " " $2; if (!(k in d)) next
    drps = field(d[k], "rps"); prps = field($0, "rps"); dp99 = field(d[k], "p99_ms"); pp99 = field($0, "p99_ms")
    printf "  %-6s %-5s deflect %6s rps %8s ms p99 | lucene %6s rps %8s ms p99 | rps x%s  p99 x%s\n", $1, $2, drps, dp99, prps, pp99,
      (prps + 0 > 0 ? sprintf("%.2f", drps / prps) : "n/a"), (dp99 + 0 > 0 ? sprintf("%.2f", pp99 / dp99) : "n/a") }
' "$WORK/deflect.results" "$WORK/peer.results"
