"""Installing the provider as users do: release archives from scripts/release.sh, then
`terraform init` from a filesystem mirror, a network mirror (HTTPS on 127.0.0.1 with a
throwaway CA) and the implied local mirror, with no `dev_overrides`.

The archives package the binary the suite already built (HYBRIDNET_PROVIDER_BIN), so CI
pays for no second build; scripts/release.sh builds a release binary itself otherwise.

The filesystem-mirror install, the lock file's refusal of a changed archive and the HTTPS
network mirror also run under OpenTofu (`@both_clis`), where the bare source
`hybridnet/hybridnet` means `registry.opentofu.org/hybridnet/hybridnet`: the mirror
layout and the lock file's provider address use that host instead (`cli.registry_host`).
The `h1:` hash both record is the same (same dirhash of the same unpacked binary).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import re
import shutil
import ssl
import subprocess
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest

from harness import Cli, both_clis

ROOT = Path(__file__).resolve().parent.parent
NAME = "hybridnet"
BIN = f"terraform-provider-{NAME}"
OVERRIDES_WARNING = "Provider development overrides are in effect"


def cargo_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1]
    m = re.search(r'^version\s*=\s*"([^"]+)"', section, re.M)
    assert m, "no [workspace.package] version in Cargo.toml"
    return m.group(1)


VERSION = cargo_version()
PREFIX = f"{BIN}_{VERSION}"
ZIP = f"{PREFIX}_linux_amd64.zip"
TF_HOST = "registry.terraform.io"


def h1_of(files: dict[str, bytes]) -> str:
    """Terraform's `h1:` hash (dirhash Hash1) of a package's unpacked files."""
    summary = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


# --- the release ------------------------------------------------------------------------

def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TOFU_", "AWS_", "SSL_CERT", "GNUPG"))}
    env.update({"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"})
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def gnupg(tmp_path_factory) -> dict:
    """A throwaway GPG key in a temporary GNUPGHOME."""
    if not shutil.which("gpg"):
        pytest.fail("gpg is missing: scripts/bootstrap.sh installs it (apt-get install gnupg)")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    env = clean_env(GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
                    "hybridnet release test <release-test@example.invalid>", "ed25519", "sign", "never"],
                   env=env, check=True, capture_output=True, timeout=60)
    listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys"], env=env, check=True,
                             capture_output=True, text=True).stdout
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    yield {"env": env, "fingerprint": fpr}
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)


@pytest.fixture(scope="module")
def release(tmp_path_factory, provider_dir: Path, gnupg) -> dict:
    """scripts/release.sh run on the suite's binary, signed with the throwaway key."""
    out = tmp_path_factory.mktemp("dist")
    binary = provider_dir / BIN
    p = subprocess.run([str(ROOT / "scripts" / "release.sh"), "--binary", str(binary), "--out", str(out),
                        "--gpg-key", gnupg["fingerprint"]],
                       env=gnupg["env"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr + p.stdout
    return {"dir": out, "binary": binary, "stdout": p.stdout}


def test_release_has_the_registry_layout(release):
    out: Path = release["dir"]
    top = sorted(p.name for p in out.iterdir() if p.is_file())
    assert top == sorted([ZIP, f"{PREFIX}_SHA256SUMS", f"{PREFIX}_SHA256SUMS.sig", f"{PREFIX}_manifest.json"])
    assert "built for: linux_amd64" in release["stdout"]

    with zipfile.ZipFile(out / ZIP) as z:
        assert z.namelist() == [f"{BIN}_v{VERSION}"]
        info = z.getinfo(f"{BIN}_v{VERSION}")
        assert (info.external_attr >> 16) & 0o111, "the packaged binary is executable"
        assert z.read(info) == release["binary"].read_bytes()

    manifest = json.loads((out / f"{PREFIX}_manifest.json").read_text())
    assert manifest == {"version": 1, "metadata": {"protocol_versions": ["5.0"]}}

    sums = {}
    for line in (out / f"{PREFIX}_SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        sums[name] = digest
    assert sums == {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
                    for name in (ZIP, f"{PREFIX}_manifest.json")}

    # dist/ doubles as a network mirror for both registries' host names.
    for host in ("registry.terraform.io", "registry.opentofu.org"):
        base = out / host / NAME / NAME
        assert json.loads((base / "index.json").read_text()) == {"versions": {VERSION: {}}}
        archive = json.loads((base / f"{VERSION}.json").read_text())["archives"]["linux_amd64"]
        assert archive["hashes"] == [f"zh:{sums[ZIP]}"]
        assert (base / archive["url"]).resolve() == (out / ZIP).resolve()


def test_release_signature_verifies_and_catches_tampering(release, gnupg, tmp_path):
    out: Path = release["dir"]
    sums, sig = out / f"{PREFIX}_SHA256SUMS", out / f"{PREFIX}_SHA256SUMS.sig"
    ok = subprocess.run(["gpg", "--batch", "--status-fd", "1", "--verify", str(sig), str(sums)],
                        env=gnupg["env"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert f"VALIDSIG {gnupg['fingerprint']}" in ok.stdout
    forged = tmp_path / sums.name
    forged.write_text(sums.read_text().replace("0", "1", 1))
    bad = subprocess.run(["gpg", "--batch", "--verify", str(sig), str(forged)],
                         env=gnupg["env"], capture_output=True, text=True)
    assert bad.returncode != 0 and "BAD signature" in bad.stderr


def test_binary_reports_its_version(provider_dir):
    p = subprocess.run([str(provider_dir / BIN), "--version"], capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stdout.strip()) == (0, f"{BIN} v{VERSION}")
    bad = subprocess.run([str(provider_dir / BIN), "--nonsense"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "unknown argument" in bad.stderr


def test_release_refuses_what_is_not_a_linux_amd64_binary(tmp_path):
    fake = tmp_path / BIN
    fake.write_text("#!/bin/sh\necho terraform-provider-hybridnet v0.0.1\n")
    fake.chmod(0o755)
    p = subprocess.run([str(ROOT / "scripts" / "release.sh"), "--binary", str(fake), "--out", str(tmp_path / "d")],
                       env=clean_env(), capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "not an ELF executable" in p.stderr
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


@pytest.mark.parametrize("args,error", [
    (["--binary", "linux_arm64={bin}"], "{bin} is built for amd64, not arm64 (linux_arm64)"),
    (["--binary", "darwin_arm64={bin}"], "{bin} is not a Mach-O executable (wanted for darwin_arm64)"),
    (["--binary", "windows_amd64={bin}"], "{bin} is not a PE executable (wanted for windows_amd64)"),
    (["--binary", "solaris_sparc={bin}"], "--binary solaris_sparc={bin}: unknown platform 'solaris_sparc'"),
    (["--binary", "{bin}", "linux_arm64"], "--binary linux_amd64=...: that platform is not being released"),
    (["freebsd_amd64"], "unknown platform 'freebsd_amd64' (one of: linux_amd64 linux_arm64 darwin_amd64 "
                        "darwin_arm64 windows_amd64)"),
])
def test_release_refuses_a_binary_of_another_platform(provider_dir, tmp_path, args, error):
    """Each binary's header must match the platform it is packed for; nothing is written otherwise."""
    binary = str(provider_dir / BIN)
    argv = [a.format(bin=binary) for a in args]
    p = subprocess.run([str(ROOT / "scripts" / "release.sh"), *argv, "--out", str(tmp_path / "d")],
                       env=clean_env(), capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert f"release: {error.format(bin=binary)}" in p.stderr, p.stderr
    assert not (tmp_path / "d").exists()


# --- installing -------------------------------------------------------------------------

class Install:
    """A configuration directory and a CLI config with no dev_overrides."""

    def __init__(self, root: Path, terraform: "str | Cli", installation: str, constraint: str | None = "~> 0.1",
                 env: dict | None = None):
        self.root = root
        # The registry host a bare `hybridnet/hybridnet` source means to this CLI.
        self.host = terraform.registry_host if isinstance(terraform, Cli) else TF_HOST
        terraform = terraform.bin if isinstance(terraform, Cli) else terraform
        self.dir = root / "config"
        self.dir.mkdir(parents=True)
        self.terraform = terraform
        cli = root / "cli.tfrc"
        cli.write_text(installation)
        version = f', version = "{constraint}"' if constraint else ""
        (self.dir / "main.tf").write_text(textwrap.dedent(f"""\
            terraform {{
              required_providers {{
                hybridnet = {{ source = "hybridnet/hybridnet"{version} }}
              }}
            }}

            data "hybridnet_cidr_plan" "edge" {{
              vpc_cidrs         = ["10.0.0.0/16"]
              remote_node_cidrs = ["192.168.0.0/22"]
              remote_pod_cidrs  = ["172.16.0.0/16"]
            }}

            output "service_cidr" {{
              value = data.hybridnet_cidr_plan.edge.effective_service_cidr
            }}

            output "routes" {{
              value = [for r in data.hybridnet_cidr_plan.edge.vpc_routes : r.destination_cidr]
            }}
        """))
        self.env = clean_env(TF_CLI_CONFIG_FILE=str(cli), HOME=str(root / "home"), **(env or {}))
        (root / "home").mkdir(exist_ok=True)

    def run(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([self.terraform, *args], cwd=self.dir, env=e, capture_output=True, text=True,
                              timeout=180)

    def init(self) -> subprocess.CompletedProcess:
        return self.run("init", "-no-color", "-input=false")

    def lock(self) -> dict:
        """The hybridnet entry of .terraform.lock.hcl: version, constraints, hashes."""
        text = (self.dir / ".terraform.lock.hcl").read_text()
        m = re.search(rf'provider "{re.escape(self.host)}/hybridnet/hybridnet" \{{(.*?)\n\}}', text, re.S)
        assert m, text
        body = m.group(1)
        return {
            "version": re.search(r'version\s*=\s*"([^"]+)"', body).group(1),
            "constraints": (re.search(r'constraints\s*=\s*"([^"]+)"', body) or [None, None])[1],
            "hashes": re.findall(r'"((?:h1|zh):[^"]+)"', body),
        }

    def plan_and_apply(self, log_path: Path) -> dict:
        """plan and apply with -json; no diagnostic may mention overrides. Returns the outputs."""
        for cmd in (["plan", "-json", "-no-color", "-input=false"],
                    ["apply", "-json", "-no-color", "-input=false", "-auto-approve"]):
            p = self.run(*cmd, env={"TF_LOG": "info", "TF_LOG_PATH": str(log_path)})
            assert p.returncode == 0, p.stdout[-3000:] + p.stderr
            assert OVERRIDES_WARNING not in p.stdout + p.stderr
            diags = [json.loads(line)["diagnostic"] for line in p.stdout.splitlines()
                     if line.startswith("{") and json.loads(line).get("type") == "diagnostic"]
            assert diags == [], diags
        out = self.run("output", "-json", "-no-color")
        assert out.returncode == 0, out.stderr
        return {k: v["value"] for k, v in json.loads(out.stdout).items()}


def package_h1(release) -> str:
    return h1_of({f"{BIN}_v{VERSION}": release["binary"].read_bytes()})


def fs_mirror(release, root: Path, host: str = "registry.terraform.io") -> Path:
    mirror = root / "mirror"
    target = mirror / host / NAME / NAME
    target.mkdir(parents=True)
    shutil.copy(release["dir"] / ZIP, target / ZIP)
    return mirror


def fs_mirror_config(mirror: Path, host: str = "registry.terraform.io") -> str:
    return textwrap.dedent(f"""\
        provider_installation {{
          filesystem_mirror {{
            path    = "{mirror}"
            include = ["{host}/hybridnet/hybridnet"]
          }}
          direct {{
            exclude = ["{host}/hybridnet/hybridnet"]
          }}
        }}
    """)


@both_clis
def test_init_from_filesystem_mirror_then_plan_and_apply(release, cli, tmp_path):
    mirror = fs_mirror(release, tmp_path, cli.registry_host)
    inst = Install(tmp_path, cli, fs_mirror_config(mirror, cli.registry_host))
    p = inst.init()
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"Installed hybridnet/hybridnet v{VERSION} (unauthenticated)" in p.stdout
    assert OVERRIDES_WARNING not in p.stdout + p.stderr
    assert inst.lock() == {"version": VERSION, "constraints": "~> 0.1", "hashes": [package_h1(release)]}

    log = tmp_path / "tf.log"
    outputs = inst.plan_and_apply(log)
    assert outputs == {"service_cidr": "172.20.0.0/16", "routes": ["192.168.0.0/22", "172.16.0.0/16"]}
    # The provider logs its version when Terraform starts it.
    assert f"{BIN} v{VERSION} starting" in log.read_text()


def test_init_from_implied_local_mirror(release, terraform_bin, tmp_path):
    """The README's first option: unpack into ~/.terraform.d/plugins, no CLI config needed."""
    inst = Install(tmp_path, terraform_bin, "# no provider_installation: the implied local mirror\n")
    plugins = tmp_path / "home" / ".terraform.d" / "plugins" / "registry.terraform.io" / NAME / NAME / VERSION / "linux_amd64"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(release["dir"] / ZIP) as z:
        z.extractall(plugins)
    (plugins / f"{BIN}_v{VERSION}").chmod(0o755)
    p = inst.init()
    assert p.returncode == 0, p.stdout + p.stderr
    assert inst.lock()["hashes"] == [package_h1(release)]
    v = inst.run("validate", "-no-color")
    assert v.returncode == 0 and OVERRIDES_WARNING not in v.stdout + v.stderr, v.stdout + v.stderr


def make_ca_and_server_cert(tmp: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA, and a certificate for 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hybridnet test mirror CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, cert_pem, key_pem = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


@pytest.fixture
def https_mirror(release, tmp_path):
    """dist/ served as a provider network mirror over HTTPS on 127.0.0.1."""
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(release["dir"]), **kw)

        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"https://127.0.0.1:{server.server_address[1]}/", "ca": ca, "requested": requested}
    server.shutdown()
    server.server_close()


@both_clis
def test_init_from_https_network_mirror_records_the_same_hash(release, https_mirror, cli, tmp_path):
    host = cli.registry_host
    config = textwrap.dedent(f"""\
        provider_installation {{
          network_mirror {{
            url     = "{https_mirror['url']}"
            include = ["{host}/hybridnet/hybridnet"]
          }}
        }}
    """)
    net = Install(tmp_path / "net", cli, config, env={"SSL_CERT_FILE": str(https_mirror["ca"])})
    p = net.init()
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"Installed hybridnet/hybridnet v{VERSION}" in p.stdout
    base = f"/{host}/{NAME}/{NAME}"
    assert f"{base}/index.json" in https_mirror["requested"]
    assert f"{base}/{VERSION}.json" in https_mirror["requested"]
    assert f"/{ZIP}" in https_mirror["requested"]

    fs_root = tmp_path / "fs"
    fs_root.mkdir()
    fs = Install(fs_root, cli, fs_mirror_config(fs_mirror(release, fs_root, host), host))
    assert fs.init().returncode == 0
    h1 = package_h1(release)
    assert fs.lock()["hashes"] == [h1]
    if cli.is_tofu:
        # OpenTofu 1.12 differs here: it also records the `zh:` hash the mirror's
        # <version>.json lists for the archive (the zip's SHA-256), as it does for a
        # registry; Terraform 1.0.3 records only the `h1:` of what it unpacked. The `h1:`
        # is the same for both, so a lock file from either installs from either mirror.
        zh = "zh:" + hashlib.sha256((release["dir"] / ZIP).read_bytes()).hexdigest()
        assert net.lock()["hashes"] == [h1, zh]
    else:
        assert net.lock()["hashes"] == [h1]

    v = net.run("validate", "-no-color")
    assert v.returncode == 0 and OVERRIDES_WARNING not in v.stdout + v.stderr, v.stdout + v.stderr

    # Without the CA, Terraform refuses the mirror: the test's trust is what made it work.
    untrusted = Install(tmp_path / "untrusted", cli, config)
    u = untrusted.init()
    assert u.returncode != 0
    # OpenTofu wraps its error text at a narrower width: compare with whitespace folded.
    assert "certificate signed by unknown authority" in " ".join(u.stderr.split())


def test_unsatisfiable_constraint_is_a_clear_init_error(release, terraform_bin, tmp_path):
    mirror = fs_mirror(release, tmp_path)
    inst = Install(tmp_path, terraform_bin, fs_mirror_config(mirror), constraint="~> 9.0")
    p = inst.init()
    assert p.returncode != 0
    err = " ".join(p.stderr.split())
    assert "Failed to query available provider packages" in err, p.stderr
    assert "no available releases match the given constraints ~> 9.0" in err, p.stderr
    assert not (inst.dir / ".terraform.lock.hcl").exists()


@both_clis
def test_changed_zip_is_refused_by_the_lock_file(release, cli, tmp_path):
    mirror = fs_mirror(release, tmp_path, cli.registry_host)
    inst = Install(tmp_path, cli, fs_mirror_config(mirror, cli.registry_host))
    assert inst.init().returncode == 0
    recorded = inst.lock()["hashes"]

    # Same name, other bytes: the binary with one extra byte.
    zpath = mirror / cli.registry_host / NAME / NAME / ZIP
    with zipfile.ZipFile(zpath) as z:
        data = z.read(f"{BIN}_v{VERSION}")
    with zipfile.ZipFile(zpath, "w") as z:
        info = zipfile.ZipInfo(f"{BIN}_v{VERSION}", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100755 << 16
        z.writestr(info, data + b"\0")
    shutil.rmtree(inst.dir / ".terraform")

    p = inst.init()
    assert p.returncode != 0
    err = " ".join(p.stderr.split())
    assert "doesn't match any of the checksums previously recorded in the dependency lock file" in err, p.stderr
    assert inst.lock()["hashes"] == recorded, "the lock file keeps the recorded hash"


def test_providers_lock_records_the_platforms_the_mirror_has(release, terraform_bin, tmp_path):
    """The README's advice for teams on several platforms, on a mirror holding only the suite's
    linux_amd64 binary: a platform the mirror lacks is named in the error. (The archives of
    every platform, locked together: test_release_platforms.py.)"""
    mirror = fs_mirror(release, tmp_path)
    inst = Install(tmp_path, terraform_bin, fs_mirror_config(mirror))
    p = inst.run("providers", "lock", "-no-color", f"-fs-mirror={mirror}", "-platform=linux_amd64")
    assert p.returncode == 0, p.stdout + p.stderr
    assert package_h1(release) in inst.lock()["hashes"]
    missing = inst.run("providers", "lock", "-no-color", f"-fs-mirror={mirror}", "-platform=darwin_arm64")
    assert missing.returncode != 0
    assert "darwin_arm64" in " ".join(missing.stderr.split())
