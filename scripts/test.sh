#!/usr/bin/env bash
# The whole test suite: unit, property and protocol tests (cargo test), then the
# acceptance tests that drive real Terraform 1.0.3, and for a core set also real
# OpenTofu, against the binary cargo just built; before them, scripts/release.sh packs
# that binary and cross-builds the linux_arm64 archive that test_release_platforms.py
# runs under qemu (a cold cross build adds minutes: see below).
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

PROVIDER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/terraform-provider-hybridnet"

# Release archives for acceptance-tests/test_release_platforms.py: the binary just built
# packed as linux_amd64, and linux_arm64 cross-built (cargo-zigbuild) with the cheaper
# `ci-archive` profile, to run under qemu-aarch64. HYBRIDNET_RELEASE_PLATFORMS names the
# cross-built platforms (default linux_arm64; add darwin_amd64 darwin_arm64 windows_amd64
# to check those archives too, or set it empty to build none);
# HYBRIDNET_RELEASE_PROFILE=release builds them as shipped. Measured on the 2-core
# development machine, shared: the cold linux_arm64 ci-archive build used 7.4 CPU-minutes
# (22 min wall at CARGO_BUILD_JOBS=1 under a load of 6-11); darwin_arm64 took 6m45s wall
# (2 jobs, load 4-5). A warm run only packs (seconds).
REL_PLATFORMS="${HYBRIDNET_RELEASE_PLATFORMS-linux_arm64}"
REL_DIST="${CARGO_TARGET_DIR:-$ROOT/target}/ci-dist"
echo "== release archives: linux_amd64 (the debug build) ${REL_PLATFORMS:+and $REL_PLATFORMS }into $REL_DIST"
rel_start=$(date +%s)
# shellcheck disable=SC2086 # a list of platform names
scripts/release.sh --profile "${HYBRIDNET_RELEASE_PROFILE:-ci-archive}" --out "$REL_DIST" \
  --binary "linux_amd64=$PROVIDER_BIN" linux_amd64 $REL_PLATFORMS
echo "== release archives built in $(( $(date +%s) - rel_start ))s"

echo "== acceptance tests (real Terraform, real provider binary)"
HYBRIDNET_TERRAFORM_BIN="$TF" \
HYBRIDNET_PROVIDER_BIN="$PROVIDER_BIN" \
HYBRIDNET_RELEASE_DIST="$REL_DIST" \
HYBRIDNET_RELEASE_BUILT="linux_amd64 $REL_PLATFORMS" \
  "$ROOT/.venv/bin/python" -m pytest acceptance-tests -q -rs -p no:cacheprovider "$@"
