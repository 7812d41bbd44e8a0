#!/usr/bin/env bash
# The issue-14 scenarios with `parlor load` against a `parlor media` it spawns (Release build),
# one JSON + text report per run in OUT, plus summary.tsv for bench/plot_load.sh.
#   bash bench/load_scenarios.sh [OUT]            (PARLOR_BIN, DUR, SCENARIOS override)
#   JANUS=1 bash bench/load_scenarios.sh [OUT]    the same against Janus (bench/janus.sh)
#   EXTRA=--no-simulcast ...                      extra `parlor load` options for every run
# A visit has two directions; each is modelled as a room with one publisher and one subscriber
# (same forwarding work: each participant's media reaches the other one), so N visits = 2N rooms.
# Generator and server share this machine's cores: the generator's own CPU is not the server's,
# but it competes with it.
set -euo pipefail
BIN=${PARLOR_BIN:-build/rel/parlor}
OUT=${1:-bench/results/load-$(date +%Y%m%d-%H%M%S)}
DUR=${DUR:-15s}
SCENARIOS=${SCENARIOS:-"visit visits25 room10 audio"}
mkdir -p "$OUT"

run() {
  local name=$1; shift
  echo "== $name: $*"
  if [ -n "${JANUS:-}" ]; then  # the same peers against Debian's Janus VideoRoom (bench/janus.sh)
    PARLOR_BIN=$BIN bash "$(dirname "$0")/janus.sh" --duration "$DUR" --join-rate 50 --json "$OUT/$name.json" ${EXTRA:-} "$@" > "$OUT/$name.txt" 2>&1 || true
  else
    "$BIN" load --spawn-server --duration "$DUR" --join-rate 50 --json "$OUT/$name.json" ${EXTRA:-} "$@" > "$OUT/$name.txt" 2>&1 || true
  fi
  tail -22 "$OUT/$name.txt"
}

for s in $SCENARIOS; do
  case $s in
    visit)   run visit-1 --rooms 2 --publishers 1 --subscribers 1 ;;
    visits25) run visits-25 --rooms 50 --publishers 1 --subscribers 1 ;;
    room10)  for n in ${ROOM10_SIZES:-1 5 10 20}; do run room-10x$n --rooms 1 --publishers 10 --subscribers $n; done ;;
    audio)   for n in ${AUDIO_SIZES:-1 10 50 100 250 500}; do run audio-1x$n --audio-only --rooms 1 --publishers 1 --subscribers $n; done ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
done

python3 - "$OUT" <<'PY'
import json, glob, os, sys
out = sys.argv[1]
rows = []
for f in sorted(glob.glob(os.path.join(out, '*.json'))):
    j = json.load(open(f))
    s = j['scenario']; srv = j['server']; fl = j['floor'] or {}
    subs = s['rooms'] * s['subscribers_per_room']
    streams = j['books']['streams']
    rss = srv['rss_kb'] or 0
    rows.append([os.path.basename(f)[:-5], s['rooms'], s['publishers_per_room'], s['subscribers_per_room'], subs, streams,
                 round(j['forwarded']['packets_per_s']), round(j['forwarded']['bits_per_s'] / 1e6, 2),
                 round(srv['cpu_percent'], 1), round(srv['us_per_forwarded_packet'], 2), round(fl.get('us_per_forwarded_packet', 0), 3),
                 round(fl.get('ratio', 0), 2), round(rss / 1024, 1), round(rss / streams, 1) if streams else 0,
                 round(j['join_ms']['p50'], 1), round(j['join_ms']['p99'], 1), round(j['media_ms']['p50'], 1), round(j['media_ms']['p99'], 1),
                 round(j['books']['loss_percent'], 3), j['books']['balanced'], j['srtp_profile']])
head = ['run', 'rooms', 'pubs', 'subs_per_room', 'subscribers', 'streams', 'fwd_pps', 'fwd_mbps', 'server_cpu_pct',
        'server_us_per_fwd', 'floor_us', 'ratio', 'rss_mib', 'rss_kb_per_stream', 'join_p50_ms', 'join_p99_ms',
        'media_p50_ms', 'media_p99_ms', 'loss_pct', 'balanced', 'srtp']
with open(os.path.join(out, 'summary.tsv'), 'w') as fh:
    fh.write('\t'.join(head) + '\n')
    for r in rows: fh.write('\t'.join(str(x) for x in r) + '\n')
print(open(os.path.join(out, 'summary.tsv')).read())
PY
