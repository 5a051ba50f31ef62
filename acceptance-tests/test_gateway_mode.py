"""`pod_network_mode = "gateway"`: the EKS Hybrid Nodes gateway owns the pod-CIDR routes
(it writes them to its own network interface and re-points them on failover), the
resource keeps the node routes and the VXLAN rules of the gateway nodes' group. Real
Terraform against moto; the test plays the gateway by writing and re-pointing routes to
network interfaces, as its leader does.

Gateway mode's lifecycle and its offline check also run under OpenTofu (`@both_clis`).
"""

from __future__ import annotations

import json

from harness import (ADDR, NODE_CIDR, POD_CIDR, VXLAN, apply, assert_clean, both_clis, create_interface,
                     diag_text, gateway_args, gateway_group, network_args, ok, plan_exit, resource_hcl,
                     routes_of, rule_rows, rules_in, state_values)

def interface(aws, s, group: str | None = None) -> str:
    return create_interface(aws.ec2, s.subnet_a, "hybrid nodes gateway", [group] if group else None)[
        "NetworkInterfaceId"]


@both_clis
def test_gateway_mode_leaves_pod_routes_to_the_gateway_through_failover(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(gateway_args(s)))
    out = apply(tf_aws)["net"]
    assert out["pod_network_mode"] == "gateway" and out["pod_network_routable"] is False
    assert {(r["destination_cidr"], r["network"]) for r in out["routes"]} == {(NODE_CIDR, "node")}
    routes = routes_of(aws.ec2, s.route_table_id)
    assert routes[NODE_CIDR] == s.transit_gateway_id
    assert POD_CIDR not in routes, "no pod route of ours in gateway mode"
    assert_clean(tf_aws)

    # The gateway's leader writes its route, then a failover re-points it.
    first, second = interface(aws, s), interface(aws, s)
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, NetworkInterfaceId=first)
    assert_clean(tf_aws)
    aws.ec2.replace_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, NetworkInterfaceId=second)
    assert_clean(tf_aws)
    ok(tf_aws.apply())
    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == second, "apply never touches the gateway's route"


def test_mode_switches_routable_gateway_routable(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, "tgw", pod_network_mode="routable")))
    apply(tf_aws)
    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == s.transit_gateway_id

    # To gateway mode: our pod route goes, the gateway writes its own.
    tf_aws.write(resource_hcl(gateway_args(s)))
    out = apply(tf_aws)["net"]
    assert POD_CIDR not in routes_of(aws.ec2, s.route_table_id)
    assert [r["destination_cidr"] for r in out["routes"]] == [NODE_CIDR]
    eni = interface(aws, s)
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, NetworkInterfaceId=eni)
    assert_clean(tf_aws)

    # Back to routable while the gateway's route is still there: named at plan, never taken.
    tf_aws.write(resource_hcl(network_args(s, "tgw", pod_network_mode="routable")))
    p = plan_exit(tf_aws)
    assert p.returncode == 1
    errs = [e for e in p.errors() if e["summary"] == "Route belongs to another writer"]
    assert len(errs) == 1 and eni in diag_text(errs[0]) and POD_CIDR in diag_text(errs[0]), p.errors()
    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == eni

    # Uninstalling the gateway leaves its routes: once removed, ours comes back.
    aws.ec2.delete_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR)
    apply(tf_aws)
    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == s.transit_gateway_id
    assert_clean(tf_aws)


def test_vxlan_rules_and_the_source_dest_check_warning(tf_aws, aws, seeded):
    s = seeded
    group = gateway_group(aws, s)
    eni = interface(aws, s, group)
    ip = aws.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["PrivateIpAddress"]
    tf_aws.write(resource_hcl(gateway_args(s, gateway_security_group_id=group)))

    p = tf_aws.plan()
    warns = [w for w in p.warnings() if w["summary"] == "Source/destination check is on for gateway nodes"]
    assert len(warns) == 1 and eni in diag_text(warns[0]), p.warnings()
    assert warns[0]["snippet"]["code"].strip().startswith("gateway_security_group_id")

    out = apply(tf_aws)["net"]
    assert rules_in(aws, group) >= VXLAN
    assert out["gateway_node_ips"] == [ip]
    vxlan_rows = {(r["direction"], r["protocol"], r["port"], r["source"], r["destination"])
                  for r in out["onprem_firewall_rules"] if r["port"] == 8472}
    assert vxlan_rows == {("outbound", "udp", 8472, NODE_CIDR, f"{ip}/32"),
                          ("inbound", "udp", 8472, f"{ip}/32", NODE_CIDR)}
    ours = [r for r in rule_rows(aws.ec2, group) if r["protocol"] == "udp"]
    assert set(state_values(tf_aws)["security_group_rule_ids"]) >= {r["id"] for r in ours}
    assert_clean(tf_aws)

    # Drift: a VXLAN rule revoked by hand comes back.
    ingress = next(r for r in ours if r["direction"] == "ingress")
    aws.ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=[ingress["id"]])
    assert plan_exit(tf_aws).returncode == 2
    apply(tf_aws)
    assert rules_in(aws, group) >= VXLAN

    # The check turned off: the warning goes.
    aws.ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, SourceDestCheck={"Value": False})
    p = tf_aws.plan()
    assert p.ok and p.warnings() == [], p.warnings()

    # Back to routable: the VXLAN rules of ours go.
    tf_aws.write(resource_hcl(network_args(s, "tgw", pod_network_mode="routable")))
    out = apply(tf_aws)["net"]
    assert not (rules_in(aws, group) & VXLAN)
    assert out["gateway_node_ips"] == []
    assert_clean(tf_aws)


def test_deprecated_boolean_and_old_state_plan_empty(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, "tgw", pod_network_routable=True)))
    a = ok(tf_aws.apply())
    deprecated = [w for w in a.warnings() if w["summary"] == "Deprecated argument"]
    assert deprecated and deprecated[0]["snippet"]["code"].strip().startswith("pod_network_routable"), a.warnings()

    # State written before pod_network_mode existed: it upgrades to an empty plan.
    path = tf_aws.dir / "terraform.tfstate"
    doc = json.loads(path.read_text())
    attrs = doc["resources"][0]["instances"][0]["attributes"]
    for k in ("pod_network_mode", "gateway_security_group_id", "gateway_node_ips"):
        attrs.pop(k, None)
    doc["serial"] += 1
    path.write_text(json.dumps(doc))
    assert_clean(tf_aws)
    ok(tf_aws.apply())  # nothing to change; the upgraded state is written
    assert state_values(tf_aws)["pod_network_mode"] == "routable"

    # The boolean replaced by the mode: still nothing to do.
    tf_aws.write(resource_hcl(network_args(s, "tgw", pod_network_mode="routable")))
    assert_clean(tf_aws)

    # Both set: one error, on the deprecated one.
    tf_aws.write(resource_hcl(network_args(s, "tgw", pod_network_mode="routable", pod_network_routable=True)))
    v = tf_aws.validate()
    errs = v.errors()
    assert [e["summary"] for e in errs] == ["Conflicting arguments"], errs
    assert errs[0]["snippet"]["code"].strip().startswith("pod_network_routable")


def test_import_in_gateway_mode_plans_empty(tf_aws, aws, seeded):
    s = seeded
    group = gateway_group(aws, s)
    tf_aws.write(resource_hcl(gateway_args(s, gateway_security_group_id=group), output=False))
    ok(tf_aws.apply())
    eni = interface(aws, s)
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, NetworkInterfaceId=eni)
    assert tf_aws.run("state", "rm", "-no-color", ADDR).ok
    imp = tf_aws.run("import", "-no-color", "-input=false", ADDR, s.cluster_name)
    assert imp.ok, imp.stdout + imp.stderr
    got = state_values(tf_aws)
    assert got["pod_network_mode"] == "gateway"
    assert got["gateway_security_group_id"] == group
    assert_clean(tf_aws)


def test_data_source_names_tables_the_gateway_has_not_programmed(tf_aws, aws, seeded):
    s = seeded
    group = gateway_group(aws, s)
    tf_aws.write(resource_hcl(gateway_args(s, gateway_security_group_id=group), extra=f"""
data "hybridnet_cluster_network" "audit" {{
  cluster_name              = "{s.cluster_name}"
  pod_network_mode          = "gateway"
  gateway_security_group_id = "{group}"
  route_table_ids           = ["{s.route_table_id}"]
  depends_on                = [hybridnet_cluster_network.this]
}}

output "audit" {{
  value = data.hybridnet_cluster_network.audit
}}
"""))
    audit = apply(tf_aws)["audit"]
    no_group = f"a cluster security group for {s.cluster_name} (EKS reports none; set security_group_id)"
    # The VXLAN rules are in place (the resource made them); the gateway's pod route is not.
    assert audit["missing"] == [
        f"route {POD_CIDR} in {s.route_table_id} to the EKS Hybrid Nodes gateway's network interface (the gateway "
        "has not programmed this table: add it to the gateway's routeTableIDs)",
        no_group,
    ], audit["missing"]

    eni = interface(aws, s)
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, NetworkInterfaceId=eni)
    audit = apply(tf_aws)["audit"]
    # The gateway's route is in place: only the group, which the data source was not given, is missing.
    assert audit["missing"] == [no_group], audit["missing"]


@both_clis
def test_cidr_plan_gateway_mode(tf_aws):
    def cfg(cni: str) -> str:
        return f"""
data "hybridnet_cidr_plan" "p" {{
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["{NODE_CIDR}"]
  remote_pod_cidrs  = ["{POD_CIDR}"]
  pod_network_mode  = "gateway"
  cni               = "{cni}"
  webhook_ports     = [9443]
}}

output "p" {{
  value = data.hybridnet_cidr_plan.p
}}
"""
    tf_aws.write(cfg("calico"))
    p = tf_aws.plan()
    errs = p.errors()
    assert [e["summary"] for e in errs] == ["The EKS Hybrid Nodes gateway needs Cilium"], errs
    assert errs[0]["snippet"]["code"].strip().startswith("cni")

    tf_aws.write(cfg("cilium"))
    r = ok(tf_aws.apply())
    # Gateway mode with Cilium: no warning of ours (not even that pods are not routable);
    # OpenTofu adds its own about the output holding the deprecated pod_network_routable.
    assert {(w["summary"], w["detail"]) for w in r.warnings()} == ({(
        "Value derived from a deprecated source",
        "This value's attribute pod_network_routable is derived from data.hybridnet_cidr_plan.p.pod_network_routable, "
        "which is deprecated.")} if tf_aws.cli == "tofu" else set()), r.warnings()
    out = tf_aws.outputs()["p"]
    assert [x["destination_cidr"] for x in out["vpc_routes"]] == [NODE_CIDR]
    assert ("egress", 9443, POD_CIDR) in {(x["direction"], x["from_port"], x["cidr"])
                                           for x in out["cluster_security_group_rules"]}
    vxlan = [(x["direction"], x["source"], x["destination"]) for x in out["onprem_firewall_rules"]
             if x["port"] == 8472]
    assert vxlan == [("outbound", NODE_CIDR, "gateway node IPs"), ("inbound", "gateway node IPs", NODE_CIDR)]


def test_a_gateway_group_without_gateway_mode_is_an_error_in_resource_and_audit(tf_aws, aws, seeded):
    s = seeded
    group = gateway_group(aws, s)
    audit = f"""provider "hybridnet" {{}}

data "hybridnet_cluster_network" "audit" {{
  cluster_name              = "{s.cluster_name}"
  gateway_security_group_id = "{group}"
}}
"""
    for config, address in ((resource_hcl(network_args(s, "tgw", gateway_security_group_id=group)), ADDR),
                            (audit, "data.hybridnet_cluster_network.audit")):
        tf_aws.write(config)
        p = tf_aws.plan()
        errs = [(e.get("address"), e["summary"], e["snippet"]["code"].strip().split()[0]) for e in p.errors()]
        assert errs == [(address, "Gateway security group without the gateway", "gateway_security_group_id")], errs
    assert not rules_in(aws, group) & VXLAN
