#!/usr/bin/env bash
# Plots from bench/load_scenarios.sh's summary.tsv (gnuplot; Debian: apt-get install gnuplot-nox):
#   OUT/cpu_per_packet.png  server CPU µs per forwarded packet (and the floor) against subscribers
#   OUT/memory.png          server RSS against subscribers
#   bash bench/plot_load.sh OUT [DOCS_DIR]   (PNGs also copied to DOCS_DIR when given)
set -euo pipefail
OUT=${1:?usage: plot_load.sh RESULTS_DIR [DOCS_DIR]}
T="$OUT/summary.tsv"
grep -E '^(run|audio-)' "$T" | sort -t$'\t' -k5,5n > "$OUT/audio.tsv"
grep -E '^(run|room-10x)' "$T" | sort -t$'\t' -k5,5n > "$OUT/room10.tsv"
gnuplot <<GP
set terminal pngcairo size 900,540 font ",11"
set datafile separator "\t"
set key autotitle columnhead top right
set grid
set xlabel "subscribers"
set output "$OUT/cpu_per_packet.png"
set title "parlor media: server CPU per forwarded packet (µs) vs subscribers"
set ylabel "µs CPU per forwarded packet"
set yrange [0:*]
plot "$OUT/audio.tsv" using 5:10 with linespoints lw 2 title "1 publisher, audio only", \
     "$OUT/room10.tsv" using 5:10 with linespoints lw 2 title "10 publishers, VP8 simulcast + Opus", \
     "$OUT/audio.tsv" using 5:11 with lines dt 2 lw 1 title "floor (same runs, audio)", \
     "$OUT/room10.tsv" using 5:11 with lines dt 2 lw 1 title "floor (same runs, 10 publishers)"
set output "$OUT/memory.png"
set title "parlor media: resident memory vs subscribers"
set ylabel "RSS (MiB)"
plot "$OUT/audio.tsv" using 5:13 with linespoints lw 2 title "1 publisher, audio only", \
     "$OUT/room10.tsv" using 5:13 with linespoints lw 2 title "10 publishers, VP8 simulcast + Opus"
GP
if [ -n "${2:-}" ]; then mkdir -p "$2" && cp "$OUT/cpu_per_packet.png" "$OUT/memory.png" "$2/"; fi
echo "wrote $OUT/cpu_per_packet.png $OUT/memory.png"
