#!/usr/bin/env bash
# The whole test suite: unit, property and protocol tests (cargo test), then the
# acceptance tests that drive real Terraform against the binary cargo just built.
# Installs what it needs (scripts/bootstrap.sh) on first use.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CHECKPOINT_DISABLE=1

TF="$(scripts/bootstrap.sh)"
echo "== terraform: $("$TF" version -json 2>/dev/null | head -c 200 | tr -d '\n' || true)"

echo "== cargo test"
cargo build --locked --bins
cargo test --locked --workspace

echo "== acceptance tests (real Terraform, real provider binary)"
HYBRIDNET_TERRAFORM_BIN="$TF" \
HYBRIDNET_PROVIDER_BIN="$ROOT/target/debug/terraform-provider-hybridnet" \
  "$ROOT/.venv/bin/python" -m pytest acceptance-tests -q -p no:cacheprovider "$@"
