"""`import` blocks and `plan -generate-config-out` for `hybridnet_cluster_network`, under
OpenTofu only: Terraform 1.0.3 has no import blocks (they came with Terraform 1.5), so
these tests take the `tofu` CLI and are skipped, with the reason, where it is not built.

What they hold the provider to (see the resource page's Import section):
- an import block with the cluster name plans one import and no change, applies, then
  plans empty; an id that names no cluster fails at plan;
- the configuration OpenTofu generates from the imported state plans empty after the
  import, for every shape of the resource; where AWS cannot tell an argument back, the
  generated block differs from the original configuration exactly as the docs say.
"""

from __future__ import annotations

import json
import re

import pytest

from harness import (ADDR, assert_aws_matches, assert_clean, changes_text, network_args, ok, resource_hcl,
                     route_set, state_list, state_values)

# These tests need import blocks: OpenTofu's CLI (the `cli` fixture's "tofu" case).
pytestmark = pytest.mark.parametrize("cli", ["tofu"], indirect=True)


def import_block(cluster: str, to: str = ADDR) -> str:
    return f"""
import {{
  to = {to}
  id = {json.dumps(cluster)}
}}
"""


def planned(r) -> dict[str, dict]:
    return {m["change"]["resource"]["addr"]: m["change"]
            for m in r.json_lines() if m.get("type") == "planned_change"}


def summary(r) -> dict:
    return next(m["changes"] for m in r.json_lines() if m.get("type") == "change_summary")


def created_then_forgotten(tf, s, args: dict) -> dict:
    """Apply `args`, then drop the resource from the state (AWS keeps it): what import finds."""
    tf.write(resource_hcl(args, output=False))
    ok(tf.apply())
    created = state_values(tf)
    rm = tf.run("state", "rm", "-no-color", ADDR)
    assert rm.ok, rm.stdout + rm.stderr
    assert state_list(tf) == []
    return created


def test_import_block_plans_an_import_applies_and_then_plans_empty(tf_aws, aws, seeded):
    s = seeded
    args = network_args(s, "tgw")

    # An id that names no cluster: OpenTofu's error at plan (the provider's Read said the
    # object is gone, which is how a Terraform provider answers that).
    tf_aws.write(resource_hcl(args, output=False) + import_block("nope"))
    bad = tf_aws.plan()
    assert not bad.ok
    assert [e["summary"] for e in bad.errors()] == ["Cannot import non-existent remote object"], bad.errors()
    assert state_list(tf_aws) == []

    created = created_then_forgotten(tf_aws, s, args)
    tf_aws.write(resource_hcl(args, output=False) + import_block(s.cluster_name))
    p = tf_aws.plan("-detailed-exitcode")
    assert p.returncode == 2, changes_text(p) + p.stderr[-2000:]
    change = planned(p)[ADDR]
    # OpenTofu's plan -json: action "import" (no update with it), carrying `importing.id`.
    assert change["action"] == "import" and change["importing"] == {"id": s.cluster_name}, change
    assert summary(p)["import"] == 1 and (summary(p)["add"], summary(p)["change"], summary(p)["remove"]) == (0, 0, 0)

    a = ok(tf_aws.apply())
    assert summary(a)["import"] == 1, summary(a)
    got = state_values(tf_aws)
    for k in ("id", "cluster_name", "attachment_id", "remote_node_cidrs", "remote_pod_cidrs", "transit_gateway_id",
              "webhook_ports", "tags", "security_group_id", "service_cidr", "vpc_cidrs"):
        assert got[k] == created[k], f"{k}: imported {got[k]!r}, created {created[k]!r}"
    assert route_set(got["routes"]) == route_set(created["routes"])
    assert set(got["security_group_rule_ids"]) == set(created["security_group_rule_ids"])
    # The import block stays in the configuration: once imported it is a no-op.
    assert_clean(tf_aws)
    assert_aws_matches(aws, s, "tgw")


def generated_resource(text: str) -> dict:
    """`name = value` lines of the one generated resource block (values as HCL text)."""
    m = re.search(r'resource "hybridnet_cluster_network" "this" \{\n(.*?)\n\}', text, re.S)
    assert m, text
    body, out = m.group(1), {}
    # `tags = {` spans lines: fold nested blocks into one value.
    for name, value in re.findall(r"^  (\w+)\s*=\s*(\{.*?\n  \}|[^\n]*)$", body, re.M | re.S):
        out[name] = " ".join(value.split())
    return out


def arguments_of(tf) -> set[str]:
    """The resource's arguments (required or optional attributes) per `providers schema
    -json`, the deprecated ones aside."""
    r = tf.run("providers", "schema", "-json")
    assert r.ok, r.stderr[-2000:]
    [provider] = json.loads(r.stdout)["provider_schemas"].values()
    attrs = provider["resource_schemas"]["hybridnet_cluster_network"]["block"]["attributes"]
    return {name for name, a in attrs.items() if (a.get("required") or a.get("optional")) and not a.get("deprecated")}


def hcl_list(values: list) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


GENERATE_CASES = ["tgw", "vgw", "gateway-mode", "dedicated-route-table", "unroutable", "unmanaged-rules",
                  "no-pod-cidrs"]


def generate_case(case: str, s, aws) -> tuple[dict, dict]:
    """(arguments created with, how the generated block must differ from them): `None`
    where AWS cannot tell the argument back and the generated block has `null`."""
    if case == "tgw":
        return network_args(s, "tgw"), {}
    if case == "vgw":
        return network_args(s, "vgw"), {}
    if case == "gateway-mode":
        group = aws.ec2.create_security_group(GroupName="hybrid-gateway", Description="gateway nodes",
                                              VpcId=s.vpc_id)["GroupId"]
        return network_args(s, "tgw", pod_network_mode="gateway", gateway_security_group_id=group), {}
    if case == "dedicated-route-table":
        return network_args(s, "tgw", route_table_ids=None, create_route_table=True,
                            route_table_subnet_ids=[s.subnet_a2]), {}
    if case == "unroutable":
        # Webhook ports live only in the egress rules to the pod CIDRs, which an unroutable
        # pod network does not get.
        return network_args(s, "tgw", pod_network_mode="unroutable"), {"webhook_ports": None}
    if case == "unmanaged-rules":
        # No rules of ours exist: the security group, the webhook ports and the tags (read
        # from our rules) cannot be read back.
        return (network_args(s, "tgw", manage_security_group_rules=False),
                {"security_group_id": None, "webhook_ports": None, "tags": None})
    if case == "no-pod-cidrs":
        # remote_pod_cidrs left out: no pod routes or rules exist, so import reads EKS's pod
        # CIDRs and calls them unroutable; webhook ports live only in pod rules.
        return (network_args(s, "tgw", remote_pod_cidrs=None, webhook_ports=None, tags=None),
                {"remote_pod_cidrs": s.pod_cidrs, "pod_network_mode": "unroutable", "webhook_ports": None, "tags": None})
    raise ValueError(case)


@pytest.mark.parametrize("case", GENERATE_CASES)
def test_generated_configuration_plans_empty_after_the_import(tf_aws, aws, seeded, case):
    s = seeded
    args, differs = generate_case(case, s, aws)
    created_then_forgotten(tf_aws, s, args)

    # Only the import block: OpenTofu writes the resource block from what Read returns.
    (tf_aws.dir / "main.tf").unlink()
    tf_aws.write('provider "hybridnet" {}\n' + import_block(s.cluster_name))
    g = tf_aws.run("plan", "-no-color", "-input=false", "-generate-config-out=generated.tf")
    assert g.ok, g.stdout[-3000:] + g.stderr[-3000:]
    text = (tf_aws.dir / "generated.tf").read_text()
    assert "# __generated__ by OpenTofu" in text
    gen = generated_resource(text)

    # Every argument is written (null where unset), none of the computed-only attributes
    # and not the deprecated pod_network_routable; no timeouts block.
    assert "pod_network_routable" not in gen and "routes" not in gen and "timeouts" not in text
    assert set(gen) == arguments_of(tf_aws), "exactly the arguments (the deprecated one aside)"
    expect = {k: v for k, v in args.items()}
    expect.setdefault("pod_network_mode", "routable")
    expect.update(differs)
    for name, want in expect.items():
        if want is None:
            assert gen[name] == "null", f"{name}: generated {gen[name]!r}, AWS cannot tell it back"
        elif isinstance(want, bool):
            assert gen[name] == ("true" if want else "false"), (name, gen[name])
        elif isinstance(want, list) and name.endswith("subnet_ids"):
            # A set: written in the provider's (sorted) order.
            assert gen[name] == hcl_list(sorted(want)), (name, gen[name])
        elif isinstance(want, list):
            assert gen[name] == ("[" + ", ".join(json.dumps(v) for v in want) + "]"), (name, gen[name])
        elif isinstance(want, dict):
            assert gen[name] == "{ " + " ".join(f"{k} = {json.dumps(v)}" for k, v in want.items()) + " }", gen[name]
        else:
            assert gen[name] == json.dumps(want), (name, gen[name])

    # The import with the generated block changes nothing, and then the plan is empty.
    p = tf_aws.plan("-detailed-exitcode")
    assert p.returncode == 2, changes_text(p) + p.stderr[-2000:]
    assert {a: c["action"] for a, c in planned(p).items()} == {ADDR: "import"}, changes_text(p)
    assert summary(p)["import"] == 1 and summary(p)["change"] == 0 and summary(p)["add"] == 0
    ok(tf_aws.apply())
    assert_clean(tf_aws)
    assert state_values(tf_aws)["cluster_name"] == s.cluster_name
