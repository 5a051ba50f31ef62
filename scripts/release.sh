#!/usr/bin/env bash
# Builds the release archives of terraform-provider-hybridnet into dist/, in the layout
# the public registries and provider mirrors use, for five platforms:
#
#   terraform-provider-hybridnet_<version>_<os>_<arch>.zip   (holds terraform-provider-hybridnet_v<version>,
#                                                             with .exe on windows)
#       os_arch: linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64
#   terraform-provider-hybridnet_<version>_manifest.json     (plugin protocol 5.0)
#   terraform-provider-hybridnet_<version>_SHA256SUMS        (sha256 of every zip and the manifest)
#   terraform-provider-hybridnet_<version>_SHA256SUMS.sig    (detached GPG signature, with --gpg-key)
#   registry.terraform.io/hybridnet/hybridnet/{index.json,<version>.json}
#   registry.opentofu.org/hybridnet/hybridnet/{index.json,<version>.json}
#                                                             (network mirror documents listing every
#                                                             archive with its zh: hash; serve dist/ over https)
#
# The version is the workspace's (Cargo.toml [workspace.package] version); a binary that
# can run here (linux_amd64 natively, linux_arm64 under qemu-aarch64 when installed) must
# report the same one (--version). Each binary's format and architecture are checked
# (ELF e_machine, Mach-O cputype, PE machine) before it is packed.
#
# How the binaries are built, on Linux/x86_64 (any host with rustup and Python, in fact):
#   - `cargo zigbuild` (cargo-zigbuild, with Zig as C compiler and linker; both pinned in
#     scripts/release-requirements.txt and installed into the repo venv .venv by this
#     script); `rustup target add` adds the Rust targets it needs. (A Mac builds its own
#     darwin platform with plain `cargo build`.)
#   - linux_amd64 and linux_arm64 are linked against glibc 2.17 (zigbuild's `.2.17`
#     target suffix), so they run on any Linux of their architecture with glibc >= 2.17
#     (a native build would need the build machine's glibc, 2.34 here);
#   - darwin: Zig has libSystem but no Apple frameworks; scripts/apple-framework-stubs.py
#     writes text stubs of CoreFoundation and Security (the system root certificates
#     come from the keychain) into a minimal SDK that SDKROOT points at. On a Mac the
#     real SDK is used instead.
# The binaries are not code-signed beyond the linker's ad-hoc signature (darwin) and not
# notarized.
#
# usage: scripts/release.sh [PLATFORM...] [--binary [PLATFORM=]PATH]... [--out DIR]
#                           [--gpg-key KEY_ID] [--profile NAME]
#   PLATFORM        one or more of the five above (default: all five; with --binary and
#                   no PLATFORM, only the platforms given a binary)
#   --binary [PLATFORM=]PATH
#                   package this already-built binary for PLATFORM (default linux_amd64)
#                   instead of building it (the acceptance tests pass the debug build)
#   --out DIR       where to write (default: dist/ in the repository); the archives of a
#                   previous run of this version there are removed first
#   --gpg-key KEY   sign the SHA256SUMS with this key (gpg --local-user; honours GNUPGHOME)
#   --profile NAME  cargo profile of the binaries built (default: release, what ships;
#                   scripts/test.sh uses the cheaper `ci-archive` for its linux_arm64 test)
# Environment: CARGO_TARGET_DIR as for cargo; CARGO_BUILD_JOBS to limit parallelism;
#   HYBRIDNET_RELEASE_VENV: the venv to install cargo-zigbuild and Zig into (default .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME=hybridnet
BIN_NAME="terraform-provider-$NAME"
ALL_PLATFORMS="linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64"

usage() {
  sed -n '/^# usage:/,/^# Environment:/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}
die() { echo "release: $*" >&2; exit 1; }

# PLATFORM -> Rust target triple (and the name cargo-zigbuild is given for it).
rust_target() {
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-gnu ;;
    *) return 1 ;;
  esac
}
zig_target() {
  case "$1" in
    linux_arm64|linux_amd64) echo "$(rust_target "$1").2.17" ;;  # glibc floor 2.17
    *) rust_target "$1" ;;
  esac
}
exe_suffix() { case "$1" in windows_*) echo .exe ;; *) echo "" ;; esac; }

platforms=() binaries=() out="$ROOT/dist" gpg_key="" profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --binary)
      [ $# -ge 2 ] || die "--binary needs a path"
      case "$2" in
        *=*) p="${2%%=*}" path="${2#*=}" ;;
        *) p=linux_amd64 path="$2" ;;
      esac
      rust_target "$p" >/dev/null || die "--binary $2: unknown platform '$p' (one of: $ALL_PLATFORMS)"
      binaries+=("$p=$path"); shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out="$2"; shift 2 ;;
    --gpg-key) [ $# -ge 2 ] || die "--gpg-key needs a key ID"; gpg_key="$2"; shift 2 ;;
    --profile) [ $# -ge 2 ] || die "--profile needs a cargo profile name"; profile="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage; die "unknown argument: $1" ;;
    *) rust_target "$1" >/dev/null || die "unknown platform '$1' (one of: $ALL_PLATFORMS)"
       platforms+=("$1"); shift ;;
  esac
done
given_binary() {  # the --binary path given for platform $1, or nothing
  local b found=""
  for b in ${binaries[@]+"${binaries[@]}"}; do
    if [ "${b%%=*}" = "$1" ]; then found="${b#*=}"; fi
  done
  echo "$found"
}
if [ ${#platforms[@]} -eq 0 ]; then
  if [ ${#binaries[@]} -gt 0 ]; then
    for b in "${binaries[@]}"; do platforms+=("${b%%=*}"); done
  else
    read -r -a platforms <<<"$ALL_PLATFORMS"
  fi
fi
# Each platform once, in the canonical order.
wanted=()
for p in $ALL_PLATFORMS; do
  for q in "${platforms[@]}"; do [ "$p" = "$q" ] && { wanted+=("$p"); break; }; done
done
for b in ${binaries[@]+"${binaries[@]}"}; do
  case " ${wanted[*]} " in *" ${b%%=*} "*) ;; *) die "--binary ${b%%=*}=...: that platform is not being released" ;; esac
done

version="$(sed -n '/^\[workspace\.package\]/,/^\[/{s/^version *= *"\([^"]*\)".*/\1/p}' "$ROOT/Cargo.toml")"
[ -n "$version" ] || die "no version in $ROOT/Cargo.toml [workspace.package]"

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac  # cargo runs in $ROOT
host="$(rustc -vV | sed -n 's/^host: //p')"
profile_dir="$profile"; [ "$profile" = dev ] && profile_dir=debug

# ---- the cross toolchain, installed on first use ---------------------------------------
VENV="${HYBRIDNET_RELEASE_VENV:-$ROOT/.venv}"  # the repo venv (scripts/bootstrap.sh makes it)
REQ="$ROOT/scripts/release-requirements.txt"
zig_ready=""
ensure_zigbuild() {
  [ -n "$zig_ready" ] && return 0
  [ -x "$VENV/bin/python" ] || { echo "release: creating $VENV" >&2; "${PYTHON:-python3}" -m venv "$VENV"; }
  local want have
  want="$(sha256sum "$REQ" | cut -d' ' -f1)"
  have="$(cat "$VENV/.release-requirements.sha256" 2>/dev/null || true)"
  if [ "$want" != "$have" ] || [ ! -x "$VENV/bin/cargo-zigbuild" ]; then
    echo "release: installing $(grep -v '^#' "$REQ" | tr '\n' ' ')into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2
    echo "$want" > "$VENV/.release-requirements.sha256"
  fi
  # cargo-zigbuild finds Zig as `python3 -m ziglang` with the venv first on PATH.
  export PATH="$VENV/bin:$PATH"
  zig_ready=1
}
ensure_rust_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" && return 0
  echo "release: rustup target add $1" >&2
  rustup target add "$1" >&2
}
apple_sdk=""
ensure_apple_sdk() {
  [ -n "$apple_sdk" ] && return 0
  if [ "$(uname -s)" = Darwin ]; then apple_sdk="$(xcrun --show-sdk-path)"; return 0; fi
  apple_sdk="$target_dir/apple-sdk-stubs"
  python3 "$ROOT/scripts/apple-framework-stubs.py" "$apple_sdk" >/dev/null
}

built_path=""
build() {  # platform; sets built_path (stdout is left to the tools, sent to stderr)
  local p="$1" triple
  triple="$(rust_target "$p")"
  ensure_rust_target "$triple"
  # Linux binaries always go through zigbuild, for the glibc 2.17 floor (a native build
  # needs the glibc of the build machine: 2.34 on Debian 12).
  if [ "$triple" = "$host" ] && [ "${p%%_*}" != linux ]; then
    echo "release: cargo build --profile $profile (v$version, $p)" >&2
    (cd "$ROOT" && cargo build --profile "$profile" --locked --bin "$BIN_NAME") >&2
    built_path="$target_dir/$profile_dir/$BIN_NAME"
    return
  fi
  ensure_zigbuild
  local env=()
  case "$p" in darwin_*) ensure_apple_sdk; env=(SDKROOT="$apple_sdk") ;; esac
  echo "release: cargo zigbuild --profile $profile --target $(zig_target "$p") (v$version, $p)" >&2
  (cd "$ROOT" && env ${env[@]+"${env[@]}"} cargo zigbuild --profile "$profile" --locked --bin "$BIN_NAME" \
      --target "$(zig_target "$p")") >&2
  built_path="$target_dir/$triple/$profile_dir/$BIN_NAME$(exe_suffix "$p")"
}

# Format and architecture of an executable, from its header: prints "<format> <arch>".
binary_kind() {
  python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(4096)
def out(fmt, arch): print(fmt, arch); sys.exit(0)
if d[:4] == b"\x7fELF" and len(d) >= 20:
    machine = struct.unpack_from("<H" if d[5] == 1 else ">H", d, 18)[0]
    out("elf", {0x3E: "amd64", 0xB7: "arm64"}.get(machine, hex(machine)))
if d[:4] == b"\xcf\xfa\xed\xfe" and len(d) >= 8:
    cpu = struct.unpack_from("<I", d, 4)[0]
    out("macho", {0x01000007: "amd64", 0x0100000C: "arm64"}.get(cpu, hex(cpu)))
if d[:2] == b"MZ" and len(d) >= 0x40:
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    if d[pe:pe + 4] == b"PE\0\0":
        machine = struct.unpack_from("<H", d, pe + 4)[0]
        out("pe", {0x8664: "amd64", 0xAA64: "arm64"}.get(machine, hex(machine)))
out("unknown", "-")
PY
}
format_of() { case "$1" in linux_*) echo "elf an ELF" ;; darwin_*) echo "macho a Mach-O" ;; windows_*) echo "pe a PE" ;; esac; }

check_binary() {  # platform path
  local p="$1" bin="$2" kind want_fmt label
  [ -f "$bin" ] && [ -x "$bin" ] || die "no executable at $bin"
  kind="$(binary_kind "$bin")"
  read -r want_fmt label <<<"$(format_of "$p")"
  [ "${kind% *}" = "$want_fmt" ] || die "$bin is not $label executable (wanted for $p)"
  [ "${kind#* }" = "${p#*_}" ] || die "$bin is built for ${kind#* }, not ${p#*_} ($p)"
  local runner=()
  case "$p" in
    linux_amd64) [ "$host" = x86_64-unknown-linux-gnu ] || return 0 ;;
    linux_arm64)
      if [ "$host" != aarch64-unknown-linux-gnu ]; then
        command -v qemu-aarch64 >/dev/null && [ -d /usr/aarch64-linux-gnu ] || {
          echo "release: $p: --version not run (no qemu-aarch64 with /usr/aarch64-linux-gnu here)" >&2; return 0; }
        runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
      fi ;;
    *) return 0 ;;  # another OS: checked by its header only
  esac
  local reported
  reported="$(${runner[@]+"${runner[@]}"} "$bin" --version 2>/dev/null || true)"
  [ "$reported" = "$BIN_NAME v$version" ] \
    || die "$bin reports '${reported:-nothing}' but Cargo.toml says v$version: rebuild it"
}

# ---- build (or take) and check every binary before writing anything ----------------------
declare -A bin_of=()
built_any=""
for p in "${wanted[@]}"; do
  b="$(given_binary "$p")"
  if [ -z "$b" ]; then
    start=$(date +%s)
    build "$p" >&2
    b="$built_path"
    echo "release: $p built in $(( $(date +%s) - start ))s" >&2
    built_any=1
  fi
  check_binary "$p" "$b"
  bin_of[$p]="$b"
done

mkdir -p "$out"
out="$(cd "$out" && pwd)"
prefix="${BIN_NAME}_${version}"
rm -f "$out/${prefix}"_*

zips=()
for p in "${wanted[@]}"; do
  zip="${prefix}_${p}.zip"
  # A reproducible zip: fixed timestamp and mode, so the same binary gives the same hashes.
  python3 - "${bin_of[$p]}" "$out/$zip" "${BIN_NAME}_v${version}$(exe_suffix "$p")" <<'PY'
import sys, zipfile
src, dst, member = sys.argv[1:]
info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 & 0xFFFF) << 16
info.create_system = 3  # unix, so the mode is honoured
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read())
PY
  zips+=("$zip")
done

printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["5.0"]\n  }\n}\n' > "$out/${prefix}_manifest.json"
(cd "$out" && sha256sum "${zips[@]}" "${prefix}_manifest.json" > "${prefix}_SHA256SUMS")

if [ -n "$gpg_key" ]; then
  command -v gpg >/dev/null || die "gpg is not installed (scripts/bootstrap.sh installs it)"
  gpg --batch --yes --local-user "$gpg_key" --detach-sign --output "$out/${prefix}_SHA256SUMS.sig" "$out/${prefix}_SHA256SUMS"
  gpg --batch --verify "$out/${prefix}_SHA256SUMS.sig" "$out/${prefix}_SHA256SUMS" 2>/dev/null \
    || die "the signature just made does not verify"
fi

# Network mirror documents (provider network mirror protocol), for both registries' hosts.
archives=""
for p in "${wanted[@]}"; do
  zip="${prefix}_${p}.zip"
  archives="${archives:+$archives, }\"$p\": {\"url\": \"../../../$zip\", \"hashes\": [\"zh:$(sha256sum "$out/$zip" | cut -d' ' -f1)\"]}"
done
for host_name in registry.terraform.io registry.opentofu.org; do
  dir="$out/$host_name/$NAME/$NAME"
  mkdir -p "$dir"
  printf '{"versions": {"%s": {}}}\n' "$version" > "$dir/index.json"
  printf '{"archives": {%s}}\n' "$archives" > "$dir/$version.json"
done

echo "release: v$version built for: ${wanted[*]}${built_any:+ (built with profile $profile)}"
echo "release: wrote $out:"
(cd "$out" && ls -1 "${prefix}"_* | sed 's/^/  /')
