"""The reviewer's view: scripts/plan-annotations.py turns real `plan -json` output, from
Terraform 1.0.3 and from OpenTofu, into GitHub Actions `::error` lines on the offending
element's file and line (docs/guides/checking-cidr-plans-in-pull-requests.md).

The two CLIs agree here: both report a `hybridnet_cidr_plan` error on the list element
the provider names, with the same range (file relative to the working directory, 1-based
lines and columns), so the same assertions hold for both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness import (Cli, TerraformWorkdir, run_command)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "plan-annotations.py"

NETWORK_TF = """
terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

data "hybridnet_cidr_plan" "edge" {
  vpc_cidrs = ["10.0.0.0/16"]
  remote_node_cidrs = [
    "192.168.0.0/22",
    "192.168.8.5/22",
  ]
  remote_pod_cidrs = [
    "172.16.0.0/16",
    "10.0.4.0/24",
  ]
}
"""


def annotate(text: str, *args: str) -> list[str]:
    p = run_command([sys.executable, str(SCRIPT), *args], input=text, timeout=30)
    assert p.returncode in (0, 1), p.stderr
    return p.stdout.splitlines()


def parse(line: str) -> tuple[str, dict, str]:
    """`::error k=v,k=v::message` as (level, properties, message); values unescaped."""
    assert line.startswith("::"), line
    head, message = line[2:].split("::", 1)
    level, _, props = head.partition(" ")
    unescape = lambda s: s.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
    fields = dict(kv.split("=", 1) for kv in props.split(",")) if props else {}
    return level, {k: unescape(v) for k, v in fields.items()}, unescape(message)


def line_of(text: str, needle: str) -> int:
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


@pytest.mark.parametrize("cli", ["terraform", "tofu"])
def test_plan_errors_become_annotations_on_the_element(cli, request, tmp_path: Path, provider_dir: Path):
    binary = request.getfixturevalue("terraform_bin" if cli == "terraform" else "tofu_bin")
    work = tmp_path / "repo" / "infra"
    work.mkdir(parents=True)
    (work / "network.tf").write_text(NETWORK_TF)
    tf = TerraformWorkdir(work, Cli(cli, binary), provider_dir)
    r = tf.plan()  # no AWS credentials anywhere: hybridnet_cidr_plan needs none
    assert not r.ok, r.stdout

    lines = annotate(r.stdout, "--dir", "infra")
    # Besides, OpenTofu warns (in the JSON) that dev_overrides are in effect: a test
    # harness artefact, not the provider's.
    got = [a for a in map(parse, lines) if a[0] == "error"]
    assert len(got) == 2, lines
    assert all(a[0] == "error" or a[1]["title"] == "Provider development overrides are in effect"
               for a in map(parse, lines)), lines
    by_line = {int(p["line"]): (p, msg) for _, p, msg in got}

    host_bits = line_of(NETWORK_TF, '"192.168.8.5/22"')
    overlap = line_of(NETWORK_TF, '"10.0.4.0/24"')
    assert sorted(by_line) == sorted([host_bits, overlap]), lines

    p, msg = by_line[host_bits]
    assert p["file"] == "infra/network.tf"
    assert p["endLine"] == str(host_bits)
    assert p["title"] == 'CIDR block "192.168.8.5/22" has host bits set'
    assert 'Use the block\'s network address: "192.168.8.0/22"' in msg, msg
    assert NETWORK_TF.splitlines()[host_bits - 1][int(p["col"]) - 1:int(p["endColumn"]) - 1] == '"192.168.8.5/22"'

    p, msg = by_line[overlap]
    assert p["file"] == "infra/network.tf"
    assert p["title"] == "remote_pod_cidrs[1] (10.0.4.0/24) overlaps the VPC CIDR 10.0.0.0/16"
    assert "10.0.0.0/16" in msg


def test_escaping_multiline_messages_and_properties():
    diag = {
        "severity": "error",
        "summary": "Bad: a, b",
        "detail": "100% wrong\r\nsecond line",
        "range": {"filename": "../net/main.tf", "start": {"line": 3, "column": 5}, "end": {"line": 4, "column": 1}},
    }
    stream = json.dumps({"type": "diagnostic", "diagnostic": diag}) + "\n" + json.dumps({"type": "version"}) + "\n"
    [line] = annotate(stream, "--dir", "infra/prod")
    assert line == "::error file=infra/net/main.tf,line=3,endLine=4,title=Bad%3A a%2C b::100%25 wrong%0D%0Asecond line"
    # validate -json (one document) works too, and a warning without a range has no file.
    doc = {"valid": False, "diagnostics": [{"severity": "warning", "summary": "Hm", "detail": "x"}]}
    assert annotate(json.dumps(doc)) == ["::warning title=Hm::x"]
    # --fail-on-error sets the exit status.
    p = run_command([sys.executable, str(SCRIPT), "--fail-on-error"], input=stream, timeout=30)
    assert p.returncode == 1


def test_variable_validation_annotation_points_at_the_variable(tofu_bin: str, tmp_path: Path, provider_dir: Path):
    """Under OpenTofu, a module's function-based validation lands on the variable."""
    work = tmp_path / "repo" / "env"
    work.mkdir(parents=True)
    (work / "main.tf").write_text((ROOT / "examples/functions/cidr_problems/variable-validation.tf").read_text())
    tfvars = 'networks = {\n  vpc_cidrs         = ["10.0.0.0/16"]\n  remote_node_cidrs = ["10.0.8.0/24"]\n}\n'
    (work / "terraform.tfvars").write_text(tfvars)
    r = TerraformWorkdir(work, Cli("tofu", tofu_bin), provider_dir).plan()
    assert not r.ok, r.stdout
    [(level, p, msg)] = [a for a in map(parse, annotate(r.stdout, "--dir", "env")) if a[0] == "error"]
    assert p["file"] == "env/main.tf"
    assert p["line"] == p["endLine"] == str(line_of((work / "main.tf").read_text(), 'variable "networks"')), p
    assert p["title"] == "Invalid value for variable"
    assert "remote_node_cidrs[0] (10.0.8.0/24) overlaps the VPC CIDR 10.0.0.0/16" in msg, msg
