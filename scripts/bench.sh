#!/usr/bin/env bash
# Benchmarks, printed as a table: CIDR validation of 1,000 to 100,000 CIDRs
# (criterion; raw reports in target/criterion). Extra args go to criterion.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
cargo bench --locked -p hybridnet-rules --bench cidr_validation -- --noplot "$@" 2>/dev/null | tee "$out" >&2
echo
echo "| benchmark | median time | throughput |"
echo "|---|---|---|"
awk '
  /time:/ {
    name=$1; if (name == "time:") name=prev;
    match($0, /\[[^]]*\]/); t=substr($0, RSTART+1, RLENGTH-2); split(t, a, " ");
    med=a[3] " " a[4]; pending=name; times[name]=med; next
  }
  /thrpt:/ { match($0, /\[[^]]*\]/); t=substr($0, RSTART+1, RLENGTH-2); split(t, a, " "); thr[pending]=a[3] " " a[4]; next }
  NF==1 { prev=$1 }
  END { for (n in times) printf "| %s | %s | %s |\n", n, times[n], (n in thr ? thr[n] : "") }
' "$out" | sort
