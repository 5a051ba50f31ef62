"""The release archives of every platform (scripts/release.sh), checked on this machine.

The archives come from $HYBRIDNET_RELEASE_DIST, else dist/ (a full `scripts/release.sh`
run writes all five platforms there). scripts/test.sh builds linux_arm64 (with the
cheaper `ci-archive` profile) and packs the suite's own linux_amd64 binary beside it, so
a plain test run checks those two; darwin_amd64, darwin_arm64 and windows_amd64 are
checked when their archives are there (a full release run, or test.sh with
HYBRIDNET_RELEASE_PLATFORMS naming them) and skipped, with the reason, otherwise.

- linux_arm64 really runs: under qemu-aarch64 (Debian's qemu-user, with the arm64 glibc of
  libc6-arm64-cross in /usr/aarch64-linux-gnu) through the go-plugin handshake (its line,
  then a mutual-TLS connection whose server certificate is the one the line announced),
  and serving real Terraform a `hybridnet_cidr_plan` read through a wrapper that execs
  qemu. Its ELF header says aarch64 and its dynamic symbols need glibc 2.17 at most (as
  do those of a linux_amd64 binary scripts/release.sh built).
- darwin and windows cannot run here: their archive layout is checked, and the binary's
  header (Mach-O magic and cputype, PE machine), the libraries it loads, and for
  darwin_arm64 the code signature macOS requires. Nothing here runs them on a real Mac or
  Windows machine.
- `terraform providers lock` with a `-platform` per archive, against a filesystem mirror
  of them, records the `h1:` hash of every platform's package.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from harness import ROOT, TerraformWorkdir, kill_group

NAME = "hybridnet"
BIN = f"terraform-provider-{NAME}"
PLATFORMS = ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"]
MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
QEMU_LD_PREFIX = Path("/usr/aarch64-linux-gnu")
# The glibc a Linux binary of scripts/release.sh may need at most (it links against 2.17).
GLIBC_FLOOR = (2, 17)


def cargo_version() -> str:
    section = (ROOT / "Cargo.toml").read_text().split("[workspace.package]", 1)[1]
    m = re.search(r'^version\s*=\s*"([^"]+)"', section, re.M)
    assert m, "no [workspace.package] version in Cargo.toml"
    return m.group(1)


VERSION = cargo_version()
PREFIX = f"{BIN}_{VERSION}"


def member_name(platform: str) -> str:
    return f"{BIN}_v{VERSION}" + (".exe" if platform.startswith("windows_") else "")


def h1_of(files: dict[str, bytes]) -> str:
    """Terraform's `h1:` hash (dirhash Hash1) of a package's unpacked files."""
    summary = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


# --- the archives -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def dist() -> Path:
    explicit = os.environ.get("HYBRIDNET_RELEASE_DIST")
    d = Path(explicit) if explicit else ROOT / "dist"
    if not (d / f"{PREFIX}_SHA256SUMS").is_file():
        pytest.skip(f"no release archives of v{VERSION} in {d}: scripts/test.sh builds them "
                    "(or run scripts/release.sh, or set HYBRIDNET_RELEASE_DIST)")
    return d


def archive(dist: Path, platform: str) -> Path:
    zpath = dist / f"{PREFIX}_{platform}.zip"
    # scripts/test.sh says which platforms it built: those must be there.
    built = os.environ.get("HYBRIDNET_RELEASE_BUILT", "").split()
    assert zpath.is_file() or platform not in built, f"scripts/test.sh built {platform}, yet {zpath} is missing"
    if not zpath.is_file():
        pytest.skip(f"{zpath.name} not built: only a full scripts/release.sh run (or scripts/test.sh with "
                    f"HYBRIDNET_RELEASE_PLATFORMS naming {platform}) builds it")
    return zpath


def unpack(zpath: Path, platform: str) -> bytes:
    """The one binary of an archive, after checking the archive holds just it, executable."""
    with zipfile.ZipFile(zpath) as z:
        assert z.namelist() == [member_name(platform)], z.namelist()
        info = z.getinfo(member_name(platform))
        assert (info.external_attr >> 16) & 0o111, "the packaged binary is executable"
        return z.read(info)


def test_sums_and_mirror_documents_list_every_archive(dist):
    zips = sorted(p.name for p in dist.glob(f"{PREFIX}_*.zip"))
    assert zips and all(z[len(PREFIX) + 1:-len(".zip")] in PLATFORMS for z in zips), zips
    sums = dict(reversed(line.split("  ")) for line in (dist / f"{PREFIX}_SHA256SUMS").read_text().splitlines())
    assert sums == {name: hashlib.sha256((dist / name).read_bytes()).hexdigest()
                    for name in [*zips, f"{PREFIX}_manifest.json"]}
    for host in ("registry.terraform.io", "registry.opentofu.org"):
        base = dist / host / NAME / NAME
        assert json.loads((base / "index.json").read_text()) == {"versions": {VERSION: {}}}
        archives = json.loads((base / f"{VERSION}.json").read_text())["archives"]
        assert sorted(f"{PREFIX}_{p}.zip" for p in archives) == zips
        for platform, entry in archives.items():
            zpath = dist / f"{PREFIX}_{platform}.zip"
            assert (base / entry["url"]).resolve() == zpath.resolve()
            assert entry["hashes"] == [f"zh:{sums[zpath.name]}"]


# --- binary headers, parsed here (independently of scripts/release.sh's own check) ------

def elf_info(data: bytes) -> dict:
    """Machine, interpreter, needed libraries and the glibc versions an ELF64 LE binary needs."""
    assert data[:4] == b"\x7fELF", "ELF magic"
    assert (data[4], data[5]) == (2, 1), "64-bit little-endian"
    (e_type, machine) = struct.unpack_from("<HH", data, 16)
    (phoff, shoff) = struct.unpack_from("<QQ", data, 32)
    (phentsize, phnum, shentsize, shnum) = struct.unpack_from("<HHHH", data, 54)
    interp = None
    for i in range(phnum):
        p_type, _flags, off, _va, _pa, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            interp = data[off:off + filesz].rstrip(b"\0").decode()
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]

    def cstr(strtab_index: int, at: int) -> str:
        off = sections[strtab_index][4] + at
        return data[off:data.index(b"\0", off)].decode()

    needed, versions = [], set()
    for _name, sh_type, _f, _a, off, size, link, info, _al, _es in sections:
        if sh_type == 6:  # SHT_DYNAMIC
            for j in range(0, size, 16):
                tag, val = struct.unpack_from("<qQ", data, off + j)
                if tag == 1:  # DT_NEEDED
                    needed.append(cstr(link, val))
        elif sh_type == 0x6FFFFFFE:  # SHT_GNU_verneed
            at = off
            for _ in range(info):
                _v, cnt, _file, aux, nxt = struct.unpack_from("<HHIII", data, at)
                a = at + aux
                for _ in range(cnt):
                    _hash, _flags, _other, name, anext = struct.unpack_from("<IHHII", data, a)
                    versions.add(cstr(link, name))
                    a += anext
                at += nxt
    glibc = sorted(tuple(int(x) for x in v[len("GLIBC_"):].split(".")) for v in versions
                   if re.fullmatch(r"GLIBC_\d+(\.\d+)*", v))
    return {"type": e_type, "machine": machine, "interp": interp, "needed": needed, "glibc": glibc}


def macho_info(data: bytes) -> dict:
    magic, cputype, _sub, filetype, ncmds, _size, _flags, _res = struct.unpack_from("<IiiIIIII", data, 0)
    assert magic == 0xFEEDFACF, f"64-bit Mach-O magic, got {magic:#x}"
    dylibs, cmds, at = [], set(), 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, at)
        cmds.add(cmd)
        if cmd == 0xC:  # LC_LOAD_DYLIB
            name_off = struct.unpack_from("<I", data, at + 8)[0]
            dylibs.append(data[at + name_off:at + size].split(b"\0")[0].decode())
        at += size
    return {"cputype": cputype, "filetype": filetype, "dylibs": dylibs, "commands": cmds}


def pe_info(data: bytes) -> dict:
    assert data[:2] == b"MZ", "DOS header"
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    assert data[pe:pe + 4] == b"PE\0\0", "PE signature"
    machine, _nsect, _ts, _sym, _nsym, opt_size, characteristics = struct.unpack_from("<HHIIIHH", data, pe + 4)
    opt = pe + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    subsystem = struct.unpack_from("<H", data, opt + 68)[0]
    return {"machine": machine, "characteristics": characteristics, "optional_magic": magic,
            "subsystem": subsystem, "optional_size": opt_size}


@pytest.mark.parametrize("platform", ["linux_amd64", "linux_arm64"])
def test_linux_archive_holds_an_elf_of_its_architecture(dist, platform, provider_dir):
    data = unpack(archive(dist, platform), platform)
    elf = elf_info(data)
    assert elf["type"] in (2, 3), "an executable (ET_EXEC or PIE)"
    if platform == "linux_arm64":
        assert elf["machine"] == 0xB7, "EM_AARCH64"
        assert elf["interp"] == "/lib/ld-linux-aarch64.so.1"
        # What the README states as the floor: built against glibc 2.17 (zigbuild's suffix).
        assert elf["glibc"] and max(elf["glibc"]) <= GLIBC_FLOOR, elf["glibc"]
        assert set(elf["needed"]) <= {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                                      "libgcc_s.so.1", "ld-linux-aarch64.so.1"}, elf["needed"]
    else:
        assert elf["machine"] == 0x3E, "EM_X86_64"
        assert elf["interp"] == "/lib64/ld-linux-x86-64.so.2"
        # scripts/test.sh packs the suite's own (native, debug) build; one that
        # scripts/release.sh built is linked against glibc 2.17 like linux_arm64.
        if data != (provider_dir / BIN).read_bytes():
            assert elf["glibc"] and max(elf["glibc"]) <= GLIBC_FLOOR, elf["glibc"]


# What a darwin binary may load: the system library and the two frameworks the root
# certificates come from, under the install names the real macOS has.
DARWIN_LIBS = {
    "/usr/lib/libSystem.B.dylib",
    "/usr/lib/libiconv.2.dylib",
    "/usr/lib/libcharset.1.dylib",
    "/usr/lib/libresolv.9.dylib",
    "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
    "/System/Library/Frameworks/Security.framework/Versions/A/Security",
}


@pytest.mark.parametrize("platform,cputype", [("darwin_amd64", 0x01000007), ("darwin_arm64", 0x0100000C)])
def test_darwin_archive_holds_a_macho_of_its_architecture(dist, platform, cputype):
    m = macho_info(unpack(archive(dist, platform), platform))
    assert m["cputype"] == cputype, f"{m['cputype']:#x}"
    assert m["filetype"] == 2, "MH_EXECUTE"
    assert "/usr/lib/libSystem.B.dylib" in m["dylibs"]
    assert set(m["dylibs"]) <= DARWIN_LIBS, m["dylibs"]
    # The root certificates are read from the keychain: Security is really linked.
    assert "/System/Library/Frameworks/Security.framework/Versions/A/Security" in m["dylibs"]
    if platform == "darwin_arm64":
        assert 0x1D in m["commands"], "LC_CODE_SIGNATURE: macOS on arm64 runs only signed code (ad hoc)"


def test_windows_archive_holds_an_amd64_pe_console_executable(dist):
    pe = pe_info(unpack(archive(dist, "windows_amd64"), "windows_amd64"))
    assert pe["machine"] == 0x8664, "IMAGE_FILE_MACHINE_AMD64"
    assert pe["characteristics"] & 0x0002, "IMAGE_FILE_EXECUTABLE_IMAGE"
    assert not pe["characteristics"] & 0x2000, "not a DLL"
    assert pe["optional_magic"] == 0x20B, "PE32+"
    assert pe["subsystem"] == 3, "IMAGE_SUBSYSTEM_WINDOWS_CUI (a console program, as go-plugin expects)"


# --- linux_arm64 under qemu -------------------------------------------------------------

@pytest.fixture(scope="module")
def arm64_binary(dist, tmp_path_factory) -> Path:
    zpath = archive(dist, "linux_arm64")
    qemu = shutil.which("qemu-aarch64")
    if not qemu or not (QEMU_LD_PREFIX / "lib" / "ld-linux-aarch64.so.1").is_file():
        pytest.skip("qemu-aarch64 (Debian qemu-user) or the arm64 glibc in /usr/aarch64-linux-gnu "
                    "(libc6-arm64-cross) is missing: scripts/bootstrap.sh installs them where apt-get works")
    out = tmp_path_factory.mktemp("arm64") / member_name("linux_arm64")
    out.write_bytes(unpack(zpath, "linux_arm64"))
    out.chmod(0o755)
    return out


def qemu_argv(binary: Path, *args: str) -> list[str]:
    return [shutil.which("qemu-aarch64"), "-L", str(QEMU_LD_PREFIX), str(binary), *args]


def test_linux_arm64_reports_its_version_under_qemu(arm64_binary):
    p = subprocess.run(qemu_argv(arm64_binary, "--version"), capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout.strip()) == (0, f"{BIN} v{VERSION}"), p.stderr


def client_certificate(tmp: Path) -> tuple[str, Path, Path]:
    """A throwaway client certificate as Terraform makes one for AutoMTLS: (PEM, cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                         content_commitment=False, data_encipherment=False, key_agreement=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH,
                                                  x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_file, key_file = tmp / "client.pem", tmp / "client.key"
    cert_file.write_text(pem)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return pem, cert_file, key_file


def test_linux_arm64_handshake_under_qemu(arm64_binary, tmp_path):
    pem, cert_file, key_file = client_certificate(tmp_path)
    env = {"PATH": os.environ.get("PATH", ""), "TF_PLUGIN_MAGIC_COOKIE": MAGIC_COOKIE,
           "PLUGIN_PROTOCOL_VERSIONS": "5,6", "PLUGIN_CLIENT_CERT": pem,
           "PLUGIN_MIN_PORT": "10000", "PLUGIN_MAX_PORT": "25000"}
    proc = subprocess.Popen(qemu_argv(arm64_binary), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline().strip()
        m = re.fullmatch(r"1\|5\|tcp\|127\.0\.0\.1:(\d+)\|grpc\|([A-Za-z0-9+/]+)", line)
        assert m, f"handshake line {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        port, announced = int(m.group(1)), m.group(2)
        assert 10000 <= port <= 25000
        # The server really answers mutual TLS with the certificate the line announced.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(cert_file, key_file)
        ctx.set_alpn_protocols(["h2"])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as raw, \
                ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
            assert tls.selected_alpn_protocol() == "h2"
        assert der == base64.b64decode(announced + "=" * (-len(announced) % 4))
    finally:
        kill_group(proc)
        proc.wait(timeout=30)


def test_linux_arm64_serves_terraform_under_qemu(arm64_binary, terraform_bin, tmp_path):
    """Real Terraform launches the arm64 binary (through a wrapper that execs qemu) and reads a data source."""
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    wrapper = plugin_dir / BIN
    wrapper.write_text(f"#!/bin/sh\nexec {' '.join(qemu_argv(arm64_binary))} \"$@\"\n")
    wrapper.chmod(0o755)
    work = tmp_path / "config"
    work.mkdir()
    tf = TerraformWorkdir(work, terraform_bin, plugin_dir)
    tf.write(textwrap.dedent("""
        data "hybridnet_cidr_plan" "edge" {
          vpc_cidrs         = ["10.0.0.0/16"]
          remote_node_cidrs = ["192.168.0.0/22"]
          remote_pod_cidrs  = ["172.16.0.0/16"]
        }

        output "service_cidr" {
          value = data.hybridnet_cidr_plan.edge.effective_service_cidr
        }

        output "routes" {
          value = [for r in data.hybridnet_cidr_plan.edge.vpc_routes : r.destination_cidr]
        }
    """))
    log = tmp_path / "tf.log"
    r = tf.run("apply", "-json", "-no-color", "-input=false", "-auto-approve", timeout=600,
               env={"TF_LOG": "debug", "TF_LOG_PATH": str(log)})
    assert r.ok, r.stdout[-3000:] + r.stderr[-3000:]
    assert tf.outputs() == {"service_cidr": "172.20.0.0/16", "routes": ["192.168.0.0/22", "172.16.0.0/16"]}
    text = log.read_text()
    assert f"{BIN} v{VERSION} starting" in text
    # Terraform started the wrapper, i.e. qemu running the arm64 binary.
    assert re.search(rf"plugin started: path={re.escape(str(wrapper))}", text), "Terraform ran the arm64 wrapper"


# --- the lock file ----------------------------------------------------------------------

def test_providers_lock_records_every_platform_of_the_mirror(dist, terraform_bin, tmp_path):
    platforms = [p for p in PLATFORMS if (dist / f"{PREFIX}_{p}.zip").is_file()]
    assert set(os.environ.get("HYBRIDNET_RELEASE_BUILT", "").split()) <= set(platforms)
    if len(platforms) < 2:
        pytest.skip(f"only {platforms} in {dist}: locking several platforms needs several archives")
    mirror = tmp_path / "mirror"
    target = mirror / "registry.terraform.io" / NAME / NAME
    target.mkdir(parents=True)
    for p in platforms:
        shutil.copy(dist / f"{PREFIX}_{p}.zip", target)
    work = tmp_path / "config"
    work.mkdir()
    tf = TerraformWorkdir(work, terraform_bin, tmp_path / "no-overrides")
    tf.cli_config.write_text("# no dev_overrides: `providers lock` reads the mirror given\n")
    tf.write("")
    r = tf.run("providers", "lock", "-no-color", f"-fs-mirror={mirror}", *[f"-platform={p}" for p in platforms],
               timeout=300)
    assert r.ok, r.stdout + r.stderr
    text = (work / ".terraform.lock.hcl").read_text()
    recorded = set(re.findall(r'"((?:h1|zh):[^"]+)"', text))
    want = {h1_of({member_name(p): unpack(dist / f"{PREFIX}_{p}.zip", p)}) for p in platforms}
    assert len(want) == len(platforms), "every platform's package differs"
    assert recorded == want, text
