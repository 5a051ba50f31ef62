"""Provider-defined functions (`provider::hybridnet::…`) under a real OpenTofu: a module's
`variable` validation rejects bad CIDRs at `tofu plan`, an output holds the firewall
table (the data source's, value for value), a bad argument is a function error naming
it, and the function examples of the docs validate and are `tofu fmt` clean.

Terraform 1.0.3 predates provider functions (1.8+): it cannot parse
`provider::NAME::FUNC(...)`, so these tests need OpenTofu (1.7+), from
$HYBRIDNET_TOFU_BIN or .venv/bin/tofu. Without it they are skipped with that reason.

OpenTofu behaviours these tests rely on (observed with v1.12.6):
- a failed `variable` validation is one error "Invalid value for variable" whose detail
  starts with the module's `error_message`, ranged on the declaration
  (`variable "networks"`);
- a `FunctionError` with `function_argument` is "Invalid function argument", detail
  `Invalid value for "<parameter>" parameter: <text>`, ranged on that argument;
- functions run without the provider being configured, and not at all at plan while
  an argument is unknown (the result is known after apply);
- with `dev_overrides`, `plan -json` carries a warning diagnostic "Provider development
  overrides are in effect" (not shown to users installing from a registry or mirror).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from harness import (Cli, TerraformWorkdir, highlighted, run_command)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "functions"
FUNCTION_EXAMPLES = sorted(EXAMPLES.rglob("*.tf"))

VALIDATION = EXAMPLES / "cidr_problems" / "variable-validation.tf"
FIREWALL = EXAMPLES / "onprem_firewall_rules" / "output.tf"


def line_of(path: Path, needle: str) -> int:
    hits = [i + 1 for i, line in enumerate(path.read_text().splitlines()) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


@pytest.fixture
def tofu(tmp_path: Path, tofu_bin: str, provider_dir: Path) -> TerraformWorkdir:
    work = tmp_path / "config"
    work.mkdir()
    return TerraformWorkdir(work, Cli("tofu", tofu_bin), provider_dir)


def tfvars(networks: dict) -> str:
    def hcl(v):
        if isinstance(v, list):
            return "[" + ", ".join(hcl(x) for x in v) + "]"
        return f'"{v}"'
    body = "\n".join(f"  {k} = {hcl(v)}" for k, v in networks.items())
    return f"networks = {{\n{body}\n}}\n"


def test_variable_validation_rejects_a_bad_cidr_at_plan(tofu):
    shutil.copy(VALIDATION, tofu.dir / "main.tf")
    (tofu.dir / "terraform.tfvars").write_text(tfvars({
        "vpc_cidrs": ["10.0.0.0/16"],
        "remote_node_cidrs": ["192.168.0.0/16"],
        "remote_pod_cidrs": ["172.16.0.0/16", "10.0.4.0/24"],
    }))
    r = tofu.plan()
    assert not r.ok, r.stdout
    errs = r.errors()
    assert len(errs) == 1, errs
    e = errs[0]
    assert e["summary"] == "Invalid value for variable"
    # The message the module wrote from the function's problems: the element, the
    # data source's summary, and the CIDRs involved.
    assert "remote_pod_cidrs[1] (10.0.4.0/24) overlaps the VPC CIDR 10.0.0.0/16" in e["detail"], e["detail"]
    # It points at the variable (OpenTofu 1.12 underlines its declaration).
    assert e["range"]["filename"] == "main.tf", e
    assert e["range"]["start"]["line"] == 7, e
    assert highlighted(e) == 'variable "networks"', e

    # Good networks plan cleanly.
    (tofu.dir / "terraform.tfvars").write_text(tfvars({
        "vpc_cidrs": ["10.0.0.0/16"],
        "remote_node_cidrs": ["192.168.0.0/16"],
        "remote_pod_cidrs": ["172.16.0.0/16"],
    }))
    r = tofu.plan()
    assert r.ok, r.stdout + r.stderr
    assert r.errors() == []


def test_output_holds_the_firewall_table_of_the_data_source(tofu):
    shutil.copy(FIREWALL, tofu.dir / "main.tf")
    (tofu.dir / "same.tf").write_text(textwrap.dedent("""
        data "hybridnet_cidr_plan" "same" {
          vpc_cidrs         = ["10.0.0.0/16"]
          remote_node_cidrs = ["192.168.0.0/22"]
          remote_pod_cidrs  = ["172.16.0.0/16"]
          webhook_ports     = [9443]
        }

        output "data_source_rules" {
          value = data.hybridnet_cidr_plan.same.onprem_firewall_rules
        }
    """))
    r = tofu.apply()
    assert r.ok, r.stdout + r.stderr
    out = tofu.outputs()
    fw = out["onprem_firewall_rules"]
    assert fw == out["data_source_rules"]
    assert any(r["direction"] == "outbound" and r["protocol"] == "tcp" and r["port"] == 443
               and r["source"] == "192.168.0.0/22" and r["destination"] == "EKS cluster IPs" for r in fw), fw
    assert any(r["direction"] == "inbound" and r["port"] == 10250 and r["destination"] == "192.168.0.0/22"
               and r["source"] == "EKS cluster IPs" for r in fw), fw
    assert any(r["direction"] == "inbound" and r["port"] == 9443 and r["destination"] == "172.16.0.0/16" for r in fw), fw
    assert any(r["port"] == 53 and r["protocol"] == "udp" and r["source"] == "172.16.0.0/16" for r in fw), fw


def test_unknown_networks_wait_until_apply(tofu):
    # terraform_data's output is unknown at plan: the function is not called, its
    # result (and the output) is known after apply, and the apply computes it.
    tofu.write("""
        resource "terraform_data" "vpc" {
          input = "10.0.0.0/16"
        }

        output "problems" {
          value = provider::hybridnet::cidr_problems({
            vpc_cidrs         = [terraform_data.vpc.output]
            remote_node_cidrs = ["10.0.8.0/24"]
          })
        }
    """)
    r = tofu.plan()
    assert r.ok, r.stdout + r.stderr
    assert r.errors() == []
    r = tofu.apply()
    assert r.ok, r.stdout + r.stderr
    [p] = tofu.outputs()["problems"]
    assert p["path"] == "remote_node_cidrs[0]" and p["cidr"] == "10.0.8.0/24" and p["index"] == 0, p
    assert p["summary"] == "remote_node_cidrs[0] (10.0.8.0/24) overlaps the VPC CIDR 10.0.0.0/16", p


def test_a_bad_argument_is_a_function_error_naming_it(tofu):
    tofu.write("""
        output "problems" {
          value = provider::hybridnet::cidr_problems({
            vpc_cidr          = ["10.0.0.0/16"]
            remote_node_cidrs = ["192.168.0.0/16"]
          })
        }
    """)
    r = tofu.plan()
    assert not r.ok, r.stdout
    errs = r.errors()
    assert len(errs) == 1, errs
    e = errs[0]
    assert e["summary"] == "Invalid function argument", e
    assert ('Invalid value for "networks" parameter: vpc_cidr: is not an attribute this argument takes (it takes '
            "vpc_cidrs, service_cidr, remote_node_cidrs, remote_pod_cidrs, pod_network_mode, cni, webhook_ports, "
            "allowed_ranges)") in e["detail"], e
    # Underlined: the argument itself (the object, from its opening brace).
    assert (highlighted(e) or "").startswith("{"), e
    assert e["range"]["start"]["line"] == line_of(tofu.dir / "main.tf", "cidr_problems({"), e

    # Networks with problems are an error of onprem_firewall_rules, on the argument.
    tofu.write("""
        output "rules" {
          value = provider::hybridnet::onprem_firewall_rules({
            vpc_cidrs         = ["10.0.0.0/16"]
            remote_node_cidrs = ["10.0.1.0/24"]
          })
        }
    """)
    r = tofu.plan()
    assert not r.ok, r.stdout
    e = r.errors()[0]
    assert e["summary"] == "Invalid function argument", e
    assert "remote_node_cidrs[0]: remote_node_cidrs[0] (10.0.1.0/24) overlaps the VPC CIDR 10.0.0.0/16" in e["detail"], e


@pytest.mark.parametrize("example", FUNCTION_EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_function_examples_validate_and_are_formatted(example: Path, tmp_path: Path, tofu_bin: str, provider_dir: Path):
    # test_examples.py runs every other example under Terraform 1.0.3, which cannot
    # parse these.
    p = run_command([tofu_bin, "fmt", "-check", "-diff", "-no-color", str(example)],
                    env={"CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, f"{example} is not `tofu fmt` clean:\n{p.stdout}{p.stderr}"
    work = tmp_path / "config"
    work.mkdir()
    tf = TerraformWorkdir(work, Cli("tofu", tofu_bin), provider_dir)
    shutil.copy(example, work / example.name)
    r = tf.validate()
    assert r.ok, r.stdout + r.stderr
    assert r.errors() == [], r.stdout
