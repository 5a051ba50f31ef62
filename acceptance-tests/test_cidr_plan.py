"""`hybridnet_cidr_plan` through real Terraform: validate, plan, apply, diagnostics.

The derived tables and the errors on the exact element also run under OpenTofu
(`@both_clis`): both CLIs print the same `-json` diagnostics (summary, detail, snippet
with the highlight offsets) for what the provider returns."""

from __future__ import annotations

import pytest

from harness import (both_clis, highlighted)


def cidr_plan(**args: str) -> str:
    body = "\n".join(f"  {k} = {v}" for k, v in args.items())
    return f"""
data "hybridnet_cidr_plan" "this" {{
{body}
}}

output "plan" {{
  value = data.hybridnet_cidr_plan.this
}}
"""


VALID = cidr_plan(
    vpc_cidrs='["10.0.0.0/16", "10.1.0.0/16"]',
    remote_node_cidrs='["192.168.0.0/22", "192.168.8.0/22"]',
    remote_pod_cidrs='["172.16.0.0/16"]',
    webhook_ports="[9443]",
)


def only_error(result, path_fragment: str | None = None) -> dict:
    errs = result.errors()
    assert len(errs) == 1, f"expected exactly one error, got {errs}\nstderr: {result.stderr}"
    return errs[0]


@both_clis
def test_valid_plan_applies_with_derived_tables(tf):
    tf.write(VALID)
    v = tf.validate()
    assert v.ok, v.stdout
    assert v.errors() == []

    a = tf.apply()
    assert a.ok, a.stdout + a.stderr
    out = tf.outputs()["plan"]

    assert out["effective_service_cidr"] == "172.20.0.0/16"  # a VPC CIDR lies in 10/8
    assert out["pod_network_routable"] is True
    assert out["allowed_ranges"] == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    assert out["warnings"] == []
    assert out["node_address_count"] == 2 * 1024
    assert out["pod_address_count"] == 65536
    assert len(out["id"]) == 16

    assert out["vpc_routes"] == [
        {"destination_cidr": "192.168.0.0/22", "network": "node"},
        {"destination_cidr": "192.168.8.0/22", "network": "node"},
        {"destination_cidr": "172.16.0.0/16", "network": "pod"},
    ]

    rules = {(r["direction"], r["protocol"], r["from_port"], r["to_port"], r["cidr"]) for r in out["cluster_security_group_rules"]}
    assert rules == {
        ("ingress", "tcp", 443, 443, "192.168.0.0/22"),
        ("ingress", "tcp", 443, 443, "192.168.8.0/22"),
        ("ingress", "tcp", 443, 443, "172.16.0.0/16"),
        ("egress", "tcp", 10250, 10250, "192.168.0.0/22"),
        ("egress", "tcp", 10250, 10250, "192.168.8.0/22"),
        ("egress", "tcp", 9443, 9443, "172.16.0.0/16"),
    }
    assert all(r["description"].startswith("hybridnet:") for r in out["cluster_security_group_rules"])

    fw = out["onprem_firewall_rules"]
    assert any(r["direction"] == "outbound" and r["protocol"] == "tcp" and r["port"] == 443
               and r["source"] == "192.168.0.0/22" and r["destination"] == "EKS cluster IPs" for r in fw)
    assert any(r["direction"] == "inbound" and r["port"] == 10250 and r["destination"] == "192.168.8.0/22"
               and r["source"] == "EKS cluster IPs" for r in fw)
    assert any(r["direction"] == "inbound" and r["port"] == 9443 and r["destination"] == "172.16.0.0/16" for r in fw)
    assert any(r["port"] == 53 and r["protocol"] == "udp" and r["source"] == "172.16.0.0/16" for r in fw)

    # A second plan is empty: data sources are stable.
    p = tf.plan("-detailed-exitcode")
    assert p.returncode == 0, p.stdout


def test_default_service_cidr_outside_ten(tf):
    tf.write(cidr_plan(vpc_cidrs='["172.31.0.0/16"]', remote_node_cidrs='["10.80.0.0/16"]'))
    a = tf.apply()
    assert a.ok, a.stdout
    out = tf.outputs()["plan"]
    assert out["effective_service_cidr"] == "10.100.0.0/16"
    assert out["vpc_routes"] == [{"destination_cidr": "10.80.0.0/16", "network": "node"}]
    assert out["pod_address_count"] == 0


def test_public_vpc_cidr_is_allowed(tf):
    tf.write(cidr_plan(vpc_cidrs='["54.10.0.0/16"]', remote_node_cidrs='["10.80.0.0/16"]'))
    v = tf.validate()
    assert v.ok and v.errors() == [], v.stdout


@pytest.mark.parametrize(
    "args,attr,index,bad,fragments",
    [
        (dict(remote_pod_cidrs='["172.16.0.0/16", "banana"]'), "remote_pod_cidrs", 1, '"banana"', ["banana"]),
        (dict(remote_pod_cidrs='["fd00::/8"]'), "remote_pod_cidrs", 0, '"fd00::/8"', ["IPv4"]),
        (dict(remote_node_cidrs='["10.80.0.5/16"]'), "remote_node_cidrs", 0, '"10.80.0.5/16"', ["10.80.0.0/16"]),
        (dict(remote_node_cidrs='["192.168.0.0/24", "100.64.0.0/16"]'), "remote_node_cidrs", 1, '"100.64.0.0/16"',
         ["100.64.0.0/16", "10.0.0.0/8"]),
        (dict(remote_node_cidrs='["192.168.0.0/24", "192.168.0.0/24"]'), "remote_node_cidrs", 1, '"192.168.0.0/24"',
         ["remote_node_cidrs[0]"]),
        (dict(remote_pod_cidrs='["192.168.0.128/25"]'), "remote_pod_cidrs", 0, '"192.168.0.128/25"',
         ["192.168.0.0/24", "remote_node_cidrs[0]"]),
        (dict(remote_node_cidrs='["192.168.0.0/24", "10.0.128.0/20"]'), "remote_node_cidrs", 1, '"10.0.128.0/20"',
         ["10.0.0.0/16"]),
        (dict(remote_pod_cidrs='["172.20.4.0/24"]'), "remote_pod_cidrs", 0, '"172.20.4.0/24"', ["172.20.0.0/16"]),
        (dict(service_cidr='"192.168.0.0/16"'), "remote_node_cidrs", 0, '"192.168.0.0/24"', ["192.168.0.0/16"]),
    ],
    ids=["not-a-cidr", "ipv6", "host-bits", "not-rfc1918", "duplicate", "pod-overlaps-node", "overlaps-vpc",
         "overlaps-default-service", "overlaps-explicit-service"],
)
@both_clis
def test_rule_violations_point_at_the_element(tf, args, attr, index, bad, fragments):
    base = dict(vpc_cidrs='["10.0.0.0/16"]', remote_node_cidrs='["192.168.0.0/24"]')
    base.update(args)
    tf.write(cidr_plan(**base))
    v = tf.validate()
    assert not v.ok
    err = only_error(v)
    text = err["summary"] + " " + err["detail"]
    for f in fragments:
        assert f in text, f"{f!r} not in {text!r}"
    assert err["detail"], "every error says how to fix it"
    assert highlighted(err) == bad, f"underlined {highlighted(err)!r}, wanted {bad!r} ({attr}[{index}])"
    # plan refuses the same configuration with the same diagnostic
    p = tf.plan()
    assert not p.ok
    assert [e["summary"] for e in p.errors()] == [err["summary"]]


def test_allowed_ranges_widen_the_rule(tf):
    tf.write(cidr_plan(vpc_cidrs='["10.0.0.0/16"]', remote_node_cidrs='["100.64.0.0/16"]',
                       allowed_ranges='["100.64.0.0/10"]'))
    a = tf.apply()
    assert a.ok, a.stdout
    out = tf.outputs()["plan"]
    assert out["allowed_ranges"] == ["100.64.0.0/10"]
    assert out["vpc_routes"] == [{"destination_cidr": "100.64.0.0/16", "network": "node"}]


@both_clis
def test_other_argument_errors(tf):
    tf.write(cidr_plan(vpc_cidrs='["10.0.0.0/16"]', remote_node_cidrs="[]", cni='"flannel"',
                       webhook_ports="[443, 70000]"))
    v = tf.validate()
    assert not v.ok
    by_summary = {e["summary"]: e for e in v.errors()}
    assert len(by_summary) == 3, v.errors()
    assert "remote_node_cidrs" in by_summary["No remote node CIDRs"]["detail"]
    assert '"calico"' in by_summary["Unsupported CNI"]["detail"]
    assert highlighted(by_summary["Unsupported CNI"]) == '"flannel"'
    assert highlighted(by_summary["Invalid webhook port"]) == "70000"


def test_unroutable_pods_warn_and_drop_pod_routes(tf):
    tf.write(cidr_plan(vpc_cidrs='["10.0.0.0/16"]', remote_node_cidrs='["192.168.0.0/24"]',
                       remote_pod_cidrs='["172.16.0.0/16"]', pod_network_routable="false", cni='"calico"'))
    a = tf.apply()
    assert a.ok, a.stdout
    warns = a.warnings()
    assert warns, a.stdout
    text = " ".join(w["detail"] for w in warns)
    assert "natOutgoing" in text
    assert "webhook" in text.lower()
    out = tf.outputs()["plan"]
    assert out["vpc_routes"] == [{"destination_cidr": "192.168.0.0/24", "network": "node"}]
    assert any("natOutgoing" in w for w in out["warnings"])
    assert len(out["warnings"]) == len({w["detail"] for w in warns if w["summary"].startswith("Pod network")})
    cidrs = {r["cidr"] for r in out["cluster_security_group_rules"]}
    assert cidrs == {"192.168.0.0/24"}


def test_validate_defers_unknown_variables(tf):
    tf.write("""
variable "pods" { type = list(string) }
variable "service" { type = string }
""" + cidr_plan(vpc_cidrs='["10.0.0.0/16"]', remote_node_cidrs='["192.168.0.0/24"]',
                remote_pod_cidrs="var.pods", service_cidr="var.service"))
    v = tf.validate()
    assert v.ok and v.errors() == [], v.stdout


def test_validate_checks_known_elements_next_to_unknown_ones(tf):
    tf.write("""
variable "extra" { type = string }
""" + cidr_plan(vpc_cidrs='["10.0.0.0/16"]', remote_node_cidrs='["192.168.0.0/24"]',
                remote_pod_cidrs='[var.extra, "10.0.1.0/24"]'))
    v = tf.validate()
    err = only_error(v)
    assert "10.0.0.0/16" in err["summary"] + err["detail"]
    assert highlighted(err) == '"10.0.1.0/24"'


def test_unknown_at_plan_defers_to_apply(tf):
    # timestamp() is unknown during plan, so the data source is read at apply.
    hcl = """
locals {
  pod = timestamp() == "" ? "unused" : var.pod
}
variable "pod" { type = string }
""" + cidr_plan(vpc_cidrs='["10.0.0.0/16"]', remote_node_cidrs='["192.168.0.0/24"]',
                remote_pod_cidrs="[local.pod]")
    tf.write(hcl)
    p = tf.plan("-var", "pod=10.0.9.0/24")
    assert p.ok, p.stdout  # the overlap is hidden until apply: no error at plan
    assert p.errors() == []
    planned = [m for m in p.json_lines() if m.get("type") == "planned_change"]
    assert any(m["change"]["resource"]["addr"] == "data.hybridnet_cidr_plan.this" for m in planned) or \
        "known after apply" in tf.run("plan", "-no-color", "-var", "pod=10.0.9.0/24").stdout

    bad = tf.apply("-var", "pod=10.0.9.0/24")
    assert not bad.ok
    err = only_error(bad)
    assert "10.0.0.0/16" in err["summary"] + err["detail"]

    good = tf.apply("-var", "pod=172.16.0.0/16")
    assert good.ok, good.stdout
    assert tf.outputs()["plan"]["vpc_routes"][-1] == {"destination_cidr": "172.16.0.0/16", "network": "pod"}


@both_clis
def test_tf_log_debug_shows_provider_logs(tf):
    tf.write(VALID)
    r = tf.run("plan", "-no-color", env={"TF_LOG": "debug"})
    assert r.ok, r.stderr[-2000:]
    ours = [line for line in r.stderr.splitlines() if "provider.terraform-provider-hybridnet:" in line]
    # The CLI parsed our JSON lines: levels and messages, not raw JSON (OpenTofu as Terraform).
    assert any("[INFO]  provider.terraform-provider-hybridnet: plugin serving:" in line for line in ours), ours
    assert any("[DEBUG] provider.terraform-provider-hybridnet: request:" in line and "rpc=ReadDataSource" in line
               for line in ours), ours
    assert not any('"@message"' in line for line in ours), "unparsed log lines"

    quiet = tf.run("plan", "-no-color")
    assert quiet.ok, quiet.stderr[-2000:]
    assert "Changes to Outputs:" in quiet.stdout and "destination_cidr = \"192.168.0.0/22\"" in quiet.stdout, \
        quiet.stdout
    assert "provider.terraform-provider-hybridnet" not in quiet.stderr
    assert quiet.stderr == "", "without TF_LOG nothing goes to stderr"
