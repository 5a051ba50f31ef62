#!/usr/bin/env bash
# The whole test suite: unit, property and protocol tests (cargo test), then the
# acceptance tests that drive real Terraform 1.0.3, and for a core set also real
# OpenTofu, against the binary cargo just built.
# Installs what it needs (scripts/bootstrap.sh: the venv, Terraform, and OpenTofu built
# from tools/opentofu with Go) on first use. Without Go the OpenTofu cases are skipped,
# and `-rs` prints why in the summary.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CHECKPOINT_DISABLE=1

TF="$(scripts/bootstrap.sh)"
echo "== terraform: $("$TF" version -json 2>/dev/null | head -c 200 | tr -d '\n' || true)"
TOFU="$ROOT/.venv/bin/tofu"
if [ -x "$TOFU" ]; then
  export HYBRIDNET_TOFU_BIN="$TOFU"
  echo "== tofu: $(TF_CLI_CONFIG_FILE=/dev/null "$TOFU" version 2>/dev/null | head -n1 || true)"
else
  unset HYBRIDNET_TOFU_BIN
  export HYBRIDNET_TOFU_SKIP_REASON="$(cat "$ROOT/.venv/tofu-not-built.txt" 2>/dev/null || echo "OpenTofu not built by scripts/bootstrap.sh")"
  echo "== tofu: not built, OpenTofu tests skipped: $HYBRIDNET_TOFU_SKIP_REASON"
fi

echo "== cargo test"
cargo build --locked --bins
cargo test --locked --workspace

echo "== acceptance tests (real Terraform, real provider binary)"
HYBRIDNET_TERRAFORM_BIN="$TF" \
HYBRIDNET_PROVIDER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/terraform-provider-hybridnet" \
  "$ROOT/.venv/bin/python" -m pytest acceptance-tests -q -rs -p no:cacheprovider "$@"
