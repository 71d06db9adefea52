#!/usr/bin/env bash
# bench-scale.sh: issue 16's scale workloads (docs/benchmarks.md), each
# against a fresh server, for one or more scribe builds in turn, so that an
# old and a new build are measured alternately in the same minutes.
#
#   scripts/bench-scale.sh WORKLOAD BIN [BIN...]
#
# WORKLOAD is one of
#   idle      N idle connections (CLIENTS, default 10000) over NOTES notes
#             (default 100): the server's RSS and RSS per connection
#   viewers   TYPISTS typists (default 50) and CLIENTS viewers (default 5000)
#             on one note: broadcast latency to the viewers
#   typing    CLIENTS typists (default 1000) on one note: committed ops and
#             the keystrokes they carry (of those offered; "never": typed and
#             never acknowledged), broadcast latency, each process's CPU
#
# Each BIN serves on its own data dir (or Redis with REDIS=redis://...);
# the load tool is BENCH (default: the last BIN) so that every server is
# driven by the same tool. ROUNDS (default 1) repeats the whole list.
# DURATION (default 15s; idle: 10s) is the load window. The JSON results go
# to OUT (default a new temporary directory); one summary line per run is
# printed. The machine's load average is printed before every run: note it.
# ARGS, if set, is added to the load tool's flags (e.g. ARGS=--viewer-goroutines
# to read the viewers as the tool did before its epoll loops).
set -euo pipefail

workload=${1:?usage: $0 idle|viewers|typing BIN [BIN...]}
shift
[ $# -ge 1 ] || { echo "usage: $0 idle|viewers|typing BIN [BIN...]" >&2; exit 2; }
bins=("$@")
bench=${BENCH:-${bins[-1]}}
rounds=${ROUNDS:-1}
out=${OUT:-$(mktemp -d /tmp/bench-scale.XXXX)}
port=${PORT:-18500}
mkdir -p "$out"

case $workload in
idle)
	args=(--mode idle --clients "${CLIENTS:-10000}" --notes "${NOTES:-100}" --duration "${DURATION:-10s}") ;;
viewers)
	args=(--mode viewers --clients "${TYPISTS:-50}" --viewers "${CLIENTS:-5000}" --duration "${DURATION:-15s}") ;;
typing)
	args=(--mode typing --clients "${CLIENTS:-1000}" --duration "${DURATION:-15s}") ;;
*)
	echo "unknown workload $workload" >&2; exit 2 ;;
esac

summary() {
	python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["server_memory"]
line = (f'connected {r["connected"]} in {r["connect_seconds"]:.1f}s, '
        f'rss {m["baseline_rss_bytes"] >> 20}->{m["peak_rss_bytes"] >> 20} MB, '
        f'{m["per_connection_bytes"] / 1024:.1f} KB/conn, '
        f'errors {r["errors"]}, disconnects {r["disconnects"]}')
if r["mode"] != "idle":
    b = r["broadcast_latency"]
    line += (f'; committed {r["committed_ops_per_s"]:.0f} ops/s, '
             f'{r.get("committed_keystrokes_per_s", 0):.0f}/{r.get("offered_keystrokes_per_s", 0):.0f} keystrokes/s '
             f'({r.get("uncommitted_keystrokes", "?")} never), '
             f'broadcast p50/p99 {b["p50_ms"]}/{b["p99_ms"]} ms, '
             f'server cpu {r["server_cpu_percent"]:.0f}%, tool cpu {r["tool_cpu_percent"]:.0f}%, '
             f'converged {r["converged"]}')
    v = r.get("viewer_broadcast_latency")
    if v:
        line += f'; viewers p50/p99 {v["p50_ms"]}/{v["p99_ms"]} ms ({v["samples"]} samples), {r.get("viewer_frames_per_s", 0):.1f} frames/s each'
print(line)
EOF
}

for round in $(seq "$rounds"); do
	for bin in "${bins[@]}"; do
		name=$(basename "$bin")
		data=$(mktemp -d /tmp/bench-scale-data.XXXX)
		store=(--data-dir "$data")
		[ -n "${REDIS:-}" ] && store=(--redis "$REDIS" --redis-prefix "bench-scale-$$-$round-$name:")
		# No per-peer cap: the load tool spreads its clients over
		# 127.0.0.0/8 anyway, but a run should not depend on it.
		"$bin" serve --addr "127.0.0.1:$port" "${store[@]}" --log-level error \
			--max-conns-per-peer -1 >"$data/server.log" 2>&1 &
		pid=$!
		for _ in $(seq 50); do
			curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
			sleep 0.2
		done
		echo "== $workload round $round: $name (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
		res="$out/$workload-$round-$name.json"
		# shellcheck disable=SC2086 # ARGS is split into flags
		if "$bench" bench --url "http://127.0.0.1:$port" --server-pid "$pid" "${args[@]}" ${ARGS:-} >"$res" 2>"$data/bench.log"; then
			summary "$res"
		else
			echo "bench failed:"; tail -5 "$data/bench.log"
		fi
		kill "$pid"; wait "$pid" 2>/dev/null || true
		rm -rf "$data"
		port=$((port + 1))
	done
done
echo "results in $out"
