#!/usr/bin/env bash
# Janus side by side (issue 14): starts Debian's Janus (apt-get install -y janus) with its
# VideoRoom plugin and HTTP transport on 127.0.0.1 only, from a temporary configuration, and runs
# `parlor load --janus` against it with the same peers and media as against parlor media; its
# CPU and memory come from /proc like parlor media's. Extra arguments go to `parlor load`.
#   bash bench/janus.sh --rooms 1 --publishers 1 --subscribers 10 --duration 15s --json out.json
# Janus runs ICE-lite here (we are the controlling agent, as against parlor media); its libnice
# still sends a triggered check back and nominates only once we answered it (ClientTransport
# answers Binding requests). libnice never gathers on loopback (ice_enforce_list = "lo" changes
# nothing), so the media sockets use the machine's own address; the API listens on 127.0.0.1.
# JANUS_DEBUG=5 JANUS_KEEP=/tmp/janus.log keeps a verbose Janus log (JANUS_ARGS=--libnice-debug=on
# with G_MESSAGES_DEBUG=all adds libnice's own).
set -euo pipefail
BIN=${PARLOR_BIN:-build/rel/parlor}
PORT=${JANUS_PORT:-18088}
PLUGINS=/usr/lib/x86_64-linux-gnu/janus
command -v janus >/dev/null || { echo "janus is not installed (apt-get install -y janus)" >&2; exit 2; }
DIR=$(mktemp -d /tmp/parlor-janus-XXXXXX)
cat > "$DIR/janus.jcfg" <<CFG
general: {
	configs_folder = "$DIR"
	plugins_folder = "$PLUGINS/plugins"
	transports_folder = "$PLUGINS/transports"
	events_folder = "$PLUGINS/events"
	loggers_folder = "$PLUGINS/loggers"
	debug_level = ${JANUS_DEBUG:-3}
}
media: {
	rtp_port_range = "40000-49999"
	dtls_mtu = 1200
}
nat: {
	ice_lite = true
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_websockets.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
CFG
cat > "$DIR/janus.transport.http.jcfg" <<CFG
general: {
	json = "compact"
	base_path = "/janus"
	http = true
	port = $PORT
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
}
CFG
printf 'general: {\n}\n' > "$DIR/janus.plugin.videoroom.jcfg"
janus ${JANUS_ARGS:-} -F "$DIR" -C "$DIR/janus.jcfg" > "$DIR/janus.log" 2>&1 &
JPID=$!
trap 'kill $JPID 2>/dev/null; wait $JPID 2>/dev/null; [ -n "${JANUS_KEEP:-}" ] && cp "$DIR/janus.log" "$JANUS_KEEP"; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do
  curl -sf -X POST -d '{"janus":"info","transaction":"x"}' "http://127.0.0.1:$PORT/janus/info" >/dev/null 2>&1 && break
  curl -sf "http://127.0.0.1:$PORT/janus/info" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "janus pid $JPID on http://127.0.0.1:$PORT/janus"
"$BIN" load --janus "http://127.0.0.1:$PORT/janus" --server-pid "$JPID" "$@"
