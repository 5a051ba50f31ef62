#!/usr/bin/env bash
# Benchmarks, printed as tables and written to docs/performance.md:
#  1. CIDR validation of 1,000 to 100,000 CIDRs (criterion; raw reports in target/criterion);
#  2. end to end (scripts/bench_e2e.py): real Terraform and the release binary against moto
#     through a request-counting proxy on 127.0.0.1, N remote CIDRs in 3, 12, 24 and 1 or 4
#     route tables: AWS requests, wall time and provider peak RSS per phase (create, plan,
#     refresh only, update, destroy), beside what plain aws_* resources need; spawn to
#     handshake line. About 3 minutes on 2 cores, plus the release build;
#  3. many clusters under EC2's request limits (bench_e2e.py `many`): K = 1, 4, 8, 16
#     resources in one configuration behind a proxy that keeps EC2's token buckets: create
#     and destroy, wall time against the buckets' lower bound, throttled answers. About 4
#     minutes more.
#
#   scripts/bench.sh                                  # build release, run both, write the page
#   BENCH_PROVIDER_BIN=/path/to/binary scripts/bench.sh   # that binary instead of building one
#   E2E_ONLY=1 scripts/bench.sh                       # skip criterion (the page keeps its last table)
#   CRITERION_ONLY=1 scripts/bench.sh                 # skip the end-to-end run
#   BENCH_N=3,12 BENCH_TABLES=1 scripts/bench.sh      # fewer scenarios
#   RENDER_ONLY=1 scripts/bench.sh                    # rewrite the page from the last reports, run nothing
#   MANY_ONLY=1 scripts/bench.sh                      # only the many-clusters table, spliced into the page
#   BENCH_K=4,8 scripts/bench.sh                      # other K (BENCH_K= skips the many-clusters table)
#   scripts/bench.sh --sample-size 10                 # extra arguments go to criterion
#
# Reports stay in target/bench/ (criterion.md, e2e.json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CHECKPOINT_DISABLE=1

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/bench"
DOC="${PERFORMANCE_DOC:-$ROOT/docs/performance.md}"
CRIT="$OUT/criterion.md"
REPORT="$OUT/e2e.json"
mkdir -p "$OUT"

if [ "${RENDER_ONLY:-0}" != 1 ]; then
  if [ "${E2E_ONLY:-0}" != 1 ]; then
    echo "== criterion: CIDR validation" >&2
    raw="$(mktemp)"
    trap 'rm -f "$raw"' EXIT
    cargo bench --locked -p hybridnet-rules --bench cidr_validation -- --noplot "$@" 2>/dev/null | tee "$raw" >&2
    {
      echo "| benchmark | median time | throughput |"
      echo "|---|---|---|"
      awk '
        /time:/ {
          name=$1; if (name == "time:") name=prev;
          # The "change:" block against the previous run is not a benchmark of its own.
          if (name == "change:") { pending=""; next }
          match($0, /\[[^]]*\]/); t=substr($0, RSTART+1, RLENGTH-2); split(t, a, " ");
          med=a[3] " " a[4]; pending=name; times[name]=med; next
        }
        /thrpt:/ { if (pending == "") next; match($0, /\[[^]]*\]/); t=substr($0, RSTART+1, RLENGTH-2); split(t, a, " "); thr[pending]=a[3] " " a[4]; next }
        NF==1 { prev=$1 }
        END { for (n in times) printf "| %s | %s | %s |\n", n, times[n], (n in thr ? thr[n] : "") }
      ' "$raw" | sort -t/ -k1,2 -k3n
    } > "$CRIT"
    echo >&2
  fi

  if [ "${MANY_ONLY:-0}" = 1 ]; then
    TF="$(scripts/bootstrap.sh)"
    if [ -n "${BENCH_PROVIDER_BIN:-}" ]; then
      BIN="$BENCH_PROVIDER_BIN"
    else
      echo "== cargo build --release" >&2
      cargo build --locked --release --bins
      BIN="$TARGET/release/terraform-provider-hybridnet"
    fi
    many_report="$OUT/many.json"
    rm -f "$many_report"
    "$ROOT/.venv/bin/python" scripts/bench_e2e.py many --provider "$BIN" --terraform "$TF" --report "$many_report" \
      --k "${BENCH_K-1,4,8,16}"
    "$ROOT/.venv/bin/python" scripts/bench_e2e.py render --report "$many_report" --doc "$DOC" --splice \
      --meta "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    sed -n '/^## Many clusters/,/^## [^M]/p' "$DOC" | sed '$d'
    exit 0
  fi
  if [ "${CRITERION_ONLY:-0}" != 1 ]; then
    TF="$(scripts/bootstrap.sh)"
    if [ -n "${BENCH_PROVIDER_BIN:-}" ]; then
      BIN="$BENCH_PROVIDER_BIN"
      binary_note="binary given by BENCH_PROVIDER_BIN"
    else
      echo "== cargo build --release" >&2
      cargo build --locked --release --bins
      BIN="$TARGET/release/terraform-provider-hybridnet"
      binary_note="release build"
    fi
    [ -x "$BIN" ] || { echo "bench: provider binary $BIN not found" >&2; exit 2; }
    commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [ -n "$(git status --porcelain -- provider crates Cargo.toml Cargo.lock 2>/dev/null)" ]; then
      commit="$commit (with uncommitted changes)"
    fi
    [ -n "${BENCH_PROVIDER_BIN:-}" ] && commit="$commit ($binary_note)"
    echo "== end to end: $BIN" >&2
    "$ROOT/.venv/bin/python" scripts/bench_e2e.py run --provider "$BIN" --terraform "$TF" --report "$REPORT" \
      --n "${BENCH_N:-3,12,24}" --tables "${BENCH_TABLES:-1,4}" --k "${BENCH_K-1,4,8,16}"
    printf '%s' "$commit" > "$OUT/commit"
    "$TF" version 2>/dev/null | head -n1 > "$OUT/terraform" || true
  fi
fi

if [ ! -s "$REPORT" ]; then
  [ -s "$CRIT" ] && cat "$CRIT"
  echo "bench: no end-to-end report ($REPORT): $DOC not written (run without CRITERION_ONLY)" >&2
  [ "${CRITERION_ONLY:-0}" = 1 ] && exit 0
  exit 2
fi
moto_version="$("$ROOT/.venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?')"
"$ROOT/.venv/bin/python" scripts/bench_e2e.py render --report "$REPORT" --doc "$DOC" --criterion "$CRIT" \
  --meta "commit=$(cat "$OUT/commit" 2>/dev/null || echo unknown)" \
  --meta "terraform=$(cat "$OUT/terraform" 2>/dev/null || echo 'Terraform ?')" \
  --meta "moto=$moto_version" --meta "cores=$(nproc)"
echo
# The page's tables, on stdout.
sed -n '/^## Start-up/,$p' "$DOC" | sed '/^## Regenerate/,$d'
