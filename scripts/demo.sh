#!/usr/bin/env bash
# The demo: installs the provider the way the README's Install section tells users to
# (release archive -> local filesystem mirror -> `terraform init`, no dev_overrides),
# then real Terraform plans and applies examples/cidr-plan (a valid plan, with its
# derived routes and security group rules), plans examples/cidr-plan-rejected and shows
# the errors Terraform reports, and applies examples/cluster-network against a local
# AWS emulator it starts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

TF="$(scripts/bootstrap.sh)"
cargo build --locked --bins --quiet
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Package the debug build as a release archive (scripts/release.sh without --binary
# builds the release binary instead) and put it in a filesystem mirror.
scripts/release.sh --binary "${CARGO_TARGET_DIR:-$ROOT/target}/debug/terraform-provider-hybridnet" --out "$WORK/dist" \
  | sed 's/^/  /'
MIRROR="$WORK/mirror/registry.terraform.io/hybridnet/hybridnet"
mkdir -p "$MIRROR"
cp "$WORK"/dist/terraform-provider-hybridnet_*_linux_amd64.zip "$MIRROR/"
cat > "$WORK/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$WORK/mirror"
    include = ["registry.terraform.io/hybridnet/hybridnet"]
  }
}
TFRC
export TF_CLI_CONFIG_FILE="$WORK/cli.tfrc"

run() { echo; echo "\$ terraform $*"; "$TF" "$@"; }

cp -r examples/cidr-plan "$WORK/valid"
cp -r examples/cidr-plan-rejected "$WORK/rejected"

echo "=== 1. A valid CIDR plan (examples/cidr-plan) ==="
(cd "$WORK/valid" && run init -no-color && run plan -no-color && run apply -auto-approve -no-color)

echo
echo "=== 2. A rejected CIDR plan (examples/cidr-plan-rejected) ==="
set +e
(cd "$WORK/rejected" && "$TF" init -no-color >/dev/null && run plan -no-color)
status=$?
set -e
if [ "$status" -eq 0 ]; then
  echo "demo: expected the rejected plan to fail" >&2
  exit 1
fi

echo
echo "=== 3. hybridnet_cluster_network against a local AWS emulator (moto) ==="
PORT="$("$ROOT/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$ROOT/.venv/bin/python" -m moto.server -H 127.0.0.1 -p "$PORT" > "$WORK/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
       AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
cp -r examples/cluster-network "$WORK/network"
"$ROOT/.venv/bin/python" scripts/demo_seed.py "$AWS_ENDPOINT_URL" > "$WORK/network/terraform.tfvars.json"
echo "seeded the emulator: $(tr -d '\n ' < "$WORK/network/terraform.tfvars.json")"
(cd "$WORK/network" && "$TF" init -no-color >/dev/null && run apply -auto-approve -no-color && run plan -detailed-exitcode -no-color && run destroy -auto-approve -no-color)

echo
echo "demo: installed from a local mirror with terraform init (lock file: $(grep -c 'h1:' "$WORK/valid/.terraform.lock.hcl") h1: hash);"
echo "demo: the valid plan applied; the bad one was rejected at plan time (exit $status);"
echo "demo: hybridnet_cluster_network was created, planned clean and destroyed against the emulator."
