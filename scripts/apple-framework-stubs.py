#!/usr/bin/env python3
"""Writes a minimal macOS SDK directory holding text stubs (.tbd) of the Apple frameworks
the provider links, so that `cargo zigbuild` can link the darwin binaries on Linux.

Zig carries libSystem for macOS but no frameworks. Two of the provider's dependencies
link frameworks: core-foundation-sys (CoreFoundation) and security-framework-sys
(Security), through rustls-native-certs, which reads the system's root certificates from
the keychain. A linker needs from a framework only its install name and the symbols it
exports; the dynamic loader on the Mac then binds those symbols in the real framework.
This script lists, per framework, every function and static that the matching -sys crate
declares (its `extern "C"` blocks, `link_name` spellings included), at the versions
Cargo.lock pins, and writes them as TAPI v4 text stubs:

  <sdk>/System/Library/Frameworks/<Name>.framework/<Name>.tbd
  <sdk>/usr/lib, <sdk>/usr/include                 (empty: zig uses its own libSystem)

Point SDKROOT at <sdk>: cargo-zigbuild passes it to zig as -F<sdk>/System/Library/Frameworks.

usage: scripts/apple-framework-stubs.py SDK_DIR   (run from anywhere; uses `cargo metadata`)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# -sys crate -> the framework its `#[link(name = ..., kind = "framework")]` names.
FRAMEWORKS = {
    "core-foundation-sys": "CoreFoundation",
    "security-framework-sys": "Security",
}
TARGETS = "[ x86_64-macos, arm64-macos ]"

EXTERN_BLOCK = re.compile(r'extern\s+"C"\s*\{', re.S)
ITEM = re.compile(r'((?:#\[[^\]]*\]\s*)*)pub\s+(?:unsafe\s+)?(?:safe\s+)?(?:fn|static(?:\s+mut)?)\s+'
                  r'([A-Za-z_][A-Za-z0-9_]*)')
LINK_NAME = re.compile(r'link_name\s*=\s*"([^"]+)"')


def extern_bodies(text: str):
    """The text inside each `extern "C" { ... }` block (braces balanced)."""
    for m in EXTERN_BLOCK.finditer(text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        yield text[m.end():i - 1]


def symbols_of(crate_dir: Path) -> set[str]:
    found: set[str] = set()
    for rs in sorted(crate_dir.rglob("*.rs")):
        for body in extern_bodies(rs.read_text(errors="replace")):
            for attrs, name in ITEM.findall(body):
                found.add(name)
                found.update(LINK_NAME.findall(attrs))
    return found


def crate_dirs() -> dict[str, Path]:
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked", "--offline"],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    dirs: dict[str, Path] = {}
    for pkg in json.loads(meta)["packages"]:
        if pkg["name"] in FRAMEWORKS:
            if pkg["name"] in dirs:
                sys.exit(f"apple-framework-stubs: two versions of {pkg['name']} in Cargo.lock")
            dirs[pkg["name"]] = Path(pkg["manifest_path"]).parent / "src"
    return dirs


def tbd(framework: str, symbols: set[str]) -> str:
    listed = ",\n                       ".join(f"'_{s}'" for s in sorted(symbols))
    return (
        "--- !tapi-tbd\n"
        "tbd-version:     4\n"
        f"targets:         {TARGETS}\n"
        f"install-name:    '/System/Library/Frameworks/{framework}.framework/Versions/A/{framework}'\n"
        "exports:\n"
        f"  - targets:         {TARGETS}\n"
        f"    symbols:         [ {listed} ]\n"
        "...\n"
    )


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    sdk = Path(sys.argv[1]).resolve()
    dirs = crate_dirs()
    for crate, framework in FRAMEWORKS.items():
        if crate not in dirs:
            continue  # not a dependency any more: nothing links that framework
        symbols = symbols_of(dirs[crate])
        if not symbols:
            sys.exit(f"apple-framework-stubs: found no extern symbols in {dirs[crate]}")
        fw = sdk / "System" / "Library" / "Frameworks" / f"{framework}.framework"
        fw.mkdir(parents=True, exist_ok=True)
        (fw / f"{framework}.tbd").write_text(tbd(framework, symbols))
        print(f"apple-framework-stubs: {framework}: {len(symbols)} symbols from {crate}", file=sys.stderr)
    for d in ("usr/lib", "usr/include"):
        (sdk / d).mkdir(parents=True, exist_ok=True)
    print(sdk)


if __name__ == "__main__":
    main()
