#!/usr/bin/env bash
# Runs every libFuzzer target in <build dir> for <seconds> each, seeded from tests/fuzz/corpus/<name>.
# A crash fails the run and leaves its reproducer in build/fuzz/artifacts/.
set -euo pipefail
dir=${1:-build/fuzz}; seconds=${2:-10}
mkdir -p "$dir/artifacts"
shopt -s nullglob
for bin in "$dir"/fuzz_*; do
  name=${bin##*/fuzz_}
  corpus="$dir/corpus-$name"; mkdir -p "$corpus"
  seeds=(); [ -d "tests/fuzz/corpus/$name" ] && seeds=("tests/fuzz/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" \
    "$corpus" "${seeds[@]}" 2>&1 | grep -E '^(stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: $name failed"; exit 1; }
done
