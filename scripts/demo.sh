#!/usr/bin/env bash
# The demo: real Terraform plans and applies examples/cidr-plan (a valid plan, with
# its derived routes and security group rules), then plans
# examples/cidr-plan-rejected and shows the errors Terraform reports.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

TF="$(scripts/bootstrap.sh)"
cargo build --locked --bins --quiet
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/cli.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "hybridnet/hybridnet" = "$ROOT/target/debug"
  }
  direct {}
}
TFRC
export TF_CLI_CONFIG_FILE="$WORK/cli.tfrc"

run() { echo; echo "\$ terraform $*"; "$TF" "$@"; }

cp -r examples/cidr-plan "$WORK/valid"
cp -r examples/cidr-plan-rejected "$WORK/rejected"

echo "=== 1. A valid CIDR plan (examples/cidr-plan) ==="
(cd "$WORK/valid" && run plan -no-color && run apply -auto-approve -no-color)

echo
echo "=== 2. A rejected CIDR plan (examples/cidr-plan-rejected) ==="
set +e
(cd "$WORK/rejected" && run plan -no-color)
status=$?
set -e
if [ "$status" -eq 0 ]; then
  echo "demo: expected the rejected plan to fail" >&2
  exit 1
fi
echo
echo "demo: the valid plan applied; the bad one was rejected at plan time (exit $status), as intended."
