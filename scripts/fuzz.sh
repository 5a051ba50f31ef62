#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ for FUZZ_SECONDS (default 60) each and prints
# one line per target. Arguments name the targets to run (default: all of them).
#
# cargo-fuzz is installed into the repo-local, git-ignored .tools when missing. The
# machine has only stable Rust, so the build runs with RUSTC_BOOTSTRAP=1 (cargo-fuzz
# needs -Z flags). Builds go to fuzz/target, never to the workspace's target/.
#
#   FUZZ_SECONDS=60        how long each target runs
#   FUZZ_SANITIZER=address address (default), or none for a faster, plainer build
#
# Each run starts from fuzz/corpus/<target> (grown by earlier runs, git-ignored), the
# committed seeds in fuzz/seeds/<target> and the reproducers of bugs found so far in
# fuzz/regressions/<target>. A crash leaves its input in fuzz/artifacts/<target>/ and
# the whole log in fuzz/artifacts/<target>.log. Exits 1 if any target failed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_EACH="${FUZZ_SECONDS:-60}"
SANITIZER="${FUZZ_SANITIZER:-address}"
TOOLS="$ROOT/.tools"
export PATH="$TOOLS/bin:$PATH"
export CARGO_TARGET_DIR="$ROOT/fuzz/target"
export RUSTC_BOOTSTRAP=1

if [ ! -x "$TOOLS/bin/cargo-fuzz" ]; then
  echo "fuzz: installing cargo-fuzz into $TOOLS" >&2
  cargo install cargo-fuzz --locked --root "$TOOLS" >&2
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

echo "fuzz: building ${targets[*]} (sanitizer: $SANITIZER)" >&2
for t in "${targets[@]}"; do
  cargo fuzz build --fuzz-dir fuzz -s "$SANITIZER" "$t" >&2
done

# One libFuzzer final statistic from a log.
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

failed=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  dirs=("fuzz/corpus/$t")
  for extra in "fuzz/seeds/$t" "fuzz/regressions/$t"; do
    if [ -d "$extra" ]; then dirs+=("$extra"); fi
  done
  log="fuzz/artifacts/$t.log"
  if cargo fuzz run --fuzz-dir fuzz -s "$SANITIZER" "$t" "${dirs[@]}" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    printf '%-14s ok     %s runs in %ss, %s exec/s, %s new inputs, corpus %s files\n' "$t" \
      "$(final_stat number_of_executed_units "$log")" "$SECONDS_EACH" "$(final_stat average_exec_per_sec "$log")" \
      "$(final_stat new_units_added "$log")" "$(find "fuzz/corpus/$t" -type f | wc -l)"
  else
    failed=1
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    printf '%-14s FAILED %s (log: %s)\n' "$t" "${artifact:-no artifact written}" "$log"
  fi
done
exit "$failed"
