#!/usr/bin/env bash
# Builds the release archives of terraform-provider-hybridnet into dist/, in the layout
# the public registries and provider mirrors use:
#
#   terraform-provider-hybridnet_<version>_linux_amd64.zip   (holds terraform-provider-hybridnet_v<version>)
#   terraform-provider-hybridnet_<version>_manifest.json     (plugin protocol 5.0)
#   terraform-provider-hybridnet_<version>_SHA256SUMS        (sha256 of the zips and the manifest)
#   terraform-provider-hybridnet_<version>_SHA256SUMS.sig    (detached GPG signature, with --gpg-key)
#   registry.terraform.io/hybridnet/hybridnet/{index.json,<version>.json}
#   registry.opentofu.org/hybridnet/hybridnet/{index.json,<version>.json}
#                                                             (network mirror documents: serve dist/ over https)
#
# The version is the workspace's (Cargo.toml [workspace.package] version); the binary
# must report the same one (--version). Only linux_amd64 can be built on this machine.
#
# usage: scripts/release.sh [--binary PATH] [--out DIR] [--gpg-key KEY_ID]
#   --binary PATH   package this already-built binary instead of running
#                   `cargo build --release` (the acceptance tests pass the debug build)
#   --out DIR       where to write (default: dist/ in the repository)
#   --gpg-key KEY   sign the SHA256SUMS with this key (gpg --local-user; honours GNUPGHOME)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME=hybridnet
BIN_NAME="terraform-provider-$NAME"

usage() {
  cat >&2 <<'USAGE'
usage: scripts/release.sh [--binary PATH] [--out DIR] [--gpg-key KEY_ID]
  --binary PATH   package this already-built binary instead of running `cargo build --release`
  --out DIR       where to write (default: dist/ in the repository)
  --gpg-key KEY   sign the SHA256SUMS with this key (gpg --local-user; honours GNUPGHOME)
USAGE
}
die() { echo "release: $*" >&2; exit 1; }

binary="" out="$ROOT/dist" gpg_key=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out="$2"; shift 2 ;;
    --gpg-key) [ $# -ge 2 ] || die "--gpg-key needs a key ID"; gpg_key="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die "unknown argument: $1" ;;
  esac
done

version="$(sed -n '/^\[workspace\.package\]/,/^\[/{s/^version *= *"\([^"]*\)".*/\1/p}' "$ROOT/Cargo.toml")"
[ -n "$version" ] || die "no version in $ROOT/Cargo.toml [workspace.package]"

# The one target this machine builds.
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) os=linux arch=amd64 ;;
  *) die "only linux_amd64 archives are built by this script (this machine is $(uname -s)/$(uname -m))" ;;
esac
target="${os}_${arch}"

if [ -z "$binary" ]; then
  echo "release: cargo build --release (v$version, $target)" >&2
  (cd "$ROOT" && cargo build --release --locked --bin "$BIN_NAME")
  target_dir="${CARGO_TARGET_DIR:-target}"
  case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac  # cargo ran in $ROOT
  binary="$target_dir/release/$BIN_NAME"
fi
[ -f "$binary" ] && [ -x "$binary" ] || die "no executable at $binary"
# An x86-64 ELF executable: magic 7f 45 4c 46, e_machine 0x3e.
[ "$(od -An -tx1 -N4 "$binary" | tr -d ' \n')" = "7f454c46" ] || die "$binary is not an ELF executable"
[ "$(od -An -tx1 -j18 -N2 "$binary" | tr -d ' \n')" = "3e00" ] || die "$binary is not built for x86-64"
reported="$("$binary" --version 2>/dev/null || true)"
[ "$reported" = "$BIN_NAME v$version" ] \
  || die "$binary reports '${reported:-nothing}' but Cargo.toml says v$version: rebuild it"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
prefix="${BIN_NAME}_${version}"
rm -f "$out/${prefix}"_*
zip="${prefix}_${target}.zip"

# A reproducible zip: fixed timestamp and mode, so the same binary gives the same hashes.
python3 - "$binary" "$out/$zip" "${BIN_NAME}_v${version}" <<'PY'
import sys, zipfile
src, dst, member = sys.argv[1:]
info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 & 0xFFFF) << 16
info.create_system = 3  # unix, so the mode is honoured
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read())
PY

printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["5.0"]\n  }\n}\n' > "$out/${prefix}_manifest.json"
(cd "$out" && sha256sum "$zip" "${prefix}_manifest.json" > "${prefix}_SHA256SUMS")

if [ -n "$gpg_key" ]; then
  command -v gpg >/dev/null || die "gpg is not installed (scripts/bootstrap.sh installs it)"
  gpg --batch --yes --local-user "$gpg_key" --detach-sign --output "$out/${prefix}_SHA256SUMS.sig" "$out/${prefix}_SHA256SUMS"
  gpg --batch --verify "$out/${prefix}_SHA256SUMS.sig" "$out/${prefix}_SHA256SUMS" 2>/dev/null \
    || die "the signature just made does not verify"
fi

# Network mirror documents (provider network mirror protocol), for both registries' hosts.
zip_sha="$(sha256sum "$out/$zip" | cut -d' ' -f1)"
for host in registry.terraform.io registry.opentofu.org; do
  dir="$out/$host/$NAME/$NAME"
  mkdir -p "$dir"
  printf '{"versions": {"%s": {}}}\n' "$version" > "$dir/index.json"
  printf '{"archives": {"%s": {"url": "../../../%s", "hashes": ["zh:%s"]}}}\n' "$target" "$zip" "$zip_sha" \
    > "$dir/$version.json"
done

echo "release: v$version built for: $target (other targets need their own build machine)"
echo "release: wrote $out:"
(cd "$out" && ls -1 "${prefix}"_* | sed 's/^/  /')
