"""`hybridnet_cluster_network` (resource and data source) through real Terraform against
a moto server on 127.0.0.1 (see moto_server.py and seed.py).

Every test asserts on what Terraform reports (outputs, plan actions, diagnostics) and on
the AWS state read back from moto with boto3. Gateway-dependent tests run for a transit
gateway ("tgw") and a virtual private gateway ("vgw").

The core set (create, drift, update, import, destroy, plan-time diagnostics) also runs
under OpenTofu, for the transit gateway and one case each (`over_clis(..., tofu=...)`):
the lifecycle and the `-json` output the assertions read are the same for both CLIs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from harness import (ADDR, GATEWAYS, NODE_2, NODE_CIDR, POD_2, POD_CIDR, SECONDARY_CIDR, SERVICE_CIDR,
                     VPC_CIDR, apply, assert_aws_matches, assert_clean, assert_update_planned,
                     attachment_id_of, changes_text, closed_port, data_source_hcl, destroy, diag_text,
                     expected_rules, fill_inbound_rules, highlighted, network_args, ok, our_rules, over_clis,
                     plan_exit, planned_actions, resource_hcl, route_set, routes_of, rule_ids_for, rule_rows,
                     rules_in, seed_cluster_network, set_remote_networks, state_list, state_values,
                     terraform_env_for, tgw_attachments, the_error, vgw_attachment_state)


# ---------------------------------------------------------------- 1. create

@over_clis("gateway", GATEWAYS, tofu=("tgw",))
def test_create_then_empty_plan(tf_aws, aws, seeded, gateway):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, gateway)))
    out = apply(tf_aws)["net"]
    gw = s.gateway(gateway)

    assert out["id"] == s.cluster_name
    assert out["vpc_id"] == s.vpc_id
    assert out["vpc_cidrs"] == s.vpc_cidrs  # primary and secondary
    assert out["service_cidr"] == SERVICE_CIDR
    assert out["security_group_id"] == s.security_group_id
    assert out["attachment_id"] == attachment_id_of(aws, s, gateway)
    assert out["route_table_id"] is None
    assert out["pod_network_routable"] is True and out["manage_attachment"] is True
    assert route_set(out["routes"]) == {
        (s.route_table_id, NODE_CIDR, gw, "node"),
        (s.route_table_id, POD_CIDR, gw, "pod"),
    }
    want = expected_rules([NODE_CIDR], [POD_CIDR])
    assert set(out["security_group_rule_ids"]) == rule_ids_for(aws, s, want)
    assert len(out["security_group_rule_ids"]) == len(want) == 4
    assert s.eks_rule_id in out["security_group_rule_ids"], "EKS's identical inbound rule satisfies ours"
    assert out["eks_network_interface_ips"] == s.eni_ips
    assert s.foreign_eni_ip not in out["eks_network_interface_ips"]
    fw_text = json.dumps(out["onprem_firewall_rules"])
    for ip in s.eni_ips:
        assert ip in fw_text, f"EKS IP {ip} not in the firewall rules"
    assert "EKS cluster IPs" not in fw_text, "the placeholder is replaced by the real IPs"
    assert any(r["port"] == 10250 and r["direction"] == "inbound" and NODE_CIDR in r["destination"]
               for r in out["onprem_firewall_rules"])

    assert_aws_matches(aws, s, gateway)
    assert_clean(tf_aws)


# ---------------------------------------------------------------- 2. drift

def _drift_route_deleted(aws, s, gateway):
    aws.ec2.delete_route(RouteTableId=s.route_table_id, DestinationCidrBlock=NODE_CIDR)


def _drift_route_replaced(aws, s, gateway):
    aws.ec2.replace_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, GatewayId=s.internet_gateway_id)
    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == s.internet_gateway_id


def _drift_rule_revoked(aws, s, gateway):
    rid = [r["id"] for r in rule_rows(aws.ec2, s.security_group_id)
           if r["description"].startswith("hybridnet:") and r["direction"] == "egress" and r["from_port"] == 10250]
    assert len(rid) == 1
    aws.ec2.revoke_security_group_egress(GroupId=s.security_group_id, SecurityGroupRuleIds=rid)


def _drift_attachment_removed(aws, s, gateway):
    if gateway == "tgw":
        aws.ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id_of(aws, s, gateway))
        assert tgw_attachments(aws.ec2, s.vpc_id) == []
    else:
        aws.ec2.detach_vpn_gateway(VpnGatewayId=s.vpn_gateway_id, VpcId=s.vpc_id)
        assert vgw_attachment_state(aws.ec2, s.vpn_gateway_id, s.vpc_id) == "detached"


DRIFTS = {
    "route-deleted": _drift_route_deleted,
    "route-replaced": _drift_route_replaced,
    "rule-revoked": _drift_rule_revoked,
    "attachment-removed": _drift_attachment_removed,
}


DRIFT_CASES = [(g, d) for g in GATEWAYS for d in DRIFTS]


@over_clis("gateway,drift", DRIFT_CASES, ids=[f"{g}-{d}" for g, d in DRIFT_CASES], tofu=("tgw-route-replaced",))
def test_drift_is_detected_and_repaired(tf_aws, aws, seeded, gateway, drift):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, gateway)))
    before = apply(tf_aws)["net"]

    DRIFTS[drift](aws, s, gateway)
    assert_update_planned(tf_aws)

    after = apply(tf_aws)["net"]
    assert_aws_matches(aws, s, gateway)
    assert route_set(after["routes"]) == route_set(before["routes"])
    assert after["attachment_id"] == attachment_id_of(aws, s, gateway)
    want = expected_rules([NODE_CIDR], [POD_CIDR])
    assert set(after["security_group_rule_ids"]) == rule_ids_for(aws, s, want)
    assert_clean(tf_aws)


def test_everything_gone_plans_a_recreate(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, "tgw")))
    apply(tf_aws)
    ec2 = aws.ec2
    for c in (NODE_CIDR, POD_CIDR):
        ec2.delete_route(RouteTableId=s.route_table_id, DestinationCidrBlock=c)
    ours = [r for r in rule_rows(ec2, s.security_group_id) if r["description"].startswith("hybridnet:")]
    ec2.revoke_security_group_ingress(GroupId=s.security_group_id,
                                      SecurityGroupRuleIds=[r["id"] for r in ours if r["direction"] == "ingress"])
    ec2.revoke_security_group_egress(GroupId=s.security_group_id,
                                     SecurityGroupRuleIds=[r["id"] for r in ours if r["direction"] == "egress"])
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id_of(aws, s, "tgw"))

    p = plan_exit(tf_aws)
    assert p.returncode == 2, changes_text(p)
    assert planned_actions(p).get(ADDR) == "create", changes_text(p)
    apply(tf_aws)
    assert_aws_matches(aws, s, "tgw")
    assert_clean(tf_aws)


def test_changing_cluster_name_replaces(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, "tgw")))
    apply(tf_aws)
    aws.eks.create_cluster(
        name="edge2", roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": [s.subnet_a, s.subnet_b]},
        kubernetesNetworkConfig={"serviceIpv4Cidr": SERVICE_CIDR},
        remoteNetworkConfig={"remoteNodeNetworks": [{"cidrs": [NODE_CIDR]}], "remotePodNetworks": [{"cidrs": [POD_CIDR]}]},
    )
    tf_aws.write(resource_hcl(network_args(s, "tgw", cluster_name="edge2")))
    p = plan_exit(tf_aws)
    assert p.returncode == 2, changes_text(p)
    assert planned_actions(p).get(ADDR) == "replace", changes_text(p)


def test_failed_apply_records_what_it_created(tf_aws, aws, seeded):
    """moto refuses a 61st inbound rule: the apply fails after the attachment and the
    routes exist. They must be in the state, so destroy removes them (nothing orphaned)."""
    s = seeded
    fill_inbound_rules(aws.ec2, s.security_group_id, 60)
    tf_aws.write(resource_hcl(network_args(s, "tgw")))
    a = tf_aws.apply()
    assert not a.ok
    err = the_error(a)
    assert err["summary"] == "AWS ec2:AuthorizeSecurityGroupIngress failed: RulesPerSecurityGroupLimitExceeded", err
    assert err["detail"] == ("The maximum number of rules per security group has been reached. (error code "
                             "RulesPerSecurityGroupLimitExceeded). Check the IDs in the configuration and the "
                             "caller's IAM permissions."), err["detail"]
    assert err["address"] == ADDR
    assert state_list(tf_aws) == [ADDR], "what was created is recorded"
    st = state_values(tf_aws)
    assert st["attachment_id"] == attachment_id_of(aws, s, "tgw")
    in_aws = {d for d, t in routes_of(aws.ec2, s.route_table_id).items() if t == s.transit_gateway_id}
    assert {r["destination_cidr"] for r in st["routes"]} >= in_aws
    ours_in_aws = {r["id"] for r in rule_rows(aws.ec2, s.security_group_id) if r["description"].startswith("hybridnet:")}
    assert ours_in_aws <= set(st["security_group_rule_ids"]), "every rule created so far is recorded"

    destroy(tf_aws)
    assert tgw_attachments(aws.ec2, s.vpc_id) == []
    assert s.transit_gateway_id not in routes_of(aws.ec2, s.route_table_id).values()
    assert our_rules(aws.ec2, s.security_group_id) == set()


# ---------------------------------------------------------------- 3. CIDRs added and removed in place

@over_clis("gateway", GATEWAYS, tofu=("tgw",))
def test_add_and_remove_cidrs_in_place(tf_aws, aws, seeded, gateway):
    s = seeded
    set_remote_networks(aws.eks, s.cluster_name, [NODE_CIDR, NODE_2], [POD_CIDR, POD_2])
    tf_aws.write(resource_hcl(network_args(s, gateway)))
    before = apply(tf_aws)["net"]

    # Drop the first node CIDR (the one EKS's own rule covers), add a node and a pod CIDR.
    # And move the webhook from 9443 to 8443.
    tf_aws.write(resource_hcl(network_args(s, gateway, remote_node_cidrs=[NODE_2], remote_pod_cidrs=[POD_CIDR, POD_2],
                                           webhook_ports=[8443])))
    assert_update_planned(tf_aws)
    after = apply(tf_aws)["net"]

    gw = s.gateway(gateway)
    assert route_set(after["routes"]) == {
        (s.route_table_id, NODE_2, gw, "node"),
        (s.route_table_id, POD_CIDR, gw, "pod"),
        (s.route_table_id, POD_2, gw, "pod"),
    }
    assert NODE_CIDR not in routes_of(aws.ec2, s.route_table_id)
    assert_aws_matches(aws, s, gateway, nodes=[NODE_2], pods=[POD_CIDR, POD_2], ports=(8443,))
    want = expected_rules([NODE_2], [POD_CIDR, POD_2], ports=(8443,))
    assert not any(r["from_port"] == 9443 for r in rule_rows(aws.ec2, s.security_group_id))
    assert set(after["security_group_rule_ids"]) == rule_ids_for(aws, s, want)
    assert s.eks_rule_id not in after["security_group_rule_ids"]
    # The foreign identical rule is not ours to delete, even though its CIDR left the configuration.
    assert any(r["id"] == s.eks_rule_id for r in rule_rows(aws.ec2, s.security_group_id))
    assert not any(r["cidr"] == NODE_CIDR and r["description"].startswith("hybridnet:")
                   for r in rule_rows(aws.ec2, s.security_group_id))
    assert after["attachment_id"] == before["attachment_id"], "the attachment is kept"
    assert_clean(tf_aws)


DEPRECATED_ROUTABLE = ("pod_network_routable is deprecated: replace it by pod_network_mode = \"unroutable\" "
                       "(the same network; the plan stays empty).")


@pytest.mark.parametrize("gateway,spelled", [("tgw", "mode"), ("vgw", "mode"), ("tgw", "deprecated-boolean")])
def test_unroutable_pods_get_no_routes_or_rules(tf_aws, aws, seeded, gateway, spelled):
    """`pod_network_mode = "unroutable"` end to end (and the deprecated boolean, which
    means the same): the node route only, the node rules only, read back from AWS."""
    s = seeded
    gw = s.gateway(gateway)
    before = rules_in(aws, s.security_group_id)
    mode = {"pod_network_mode": "unroutable"} if spelled == "mode" else {"pod_network_routable": False}
    # No webhook_ports: their rules go to the pod CIDRs, which unroutable pods do without.
    tf_aws.write(resource_hcl(network_args(s, gateway, webhook_ports=None, **mode)))
    a = ok(tf_aws.apply())
    if spelled == "mode":
        assert a.warnings() == [], a.warnings()
    else:
        assert a.warnings() and {(w["summary"], w["detail"]) for w in a.warnings()} == {
            ("Deprecated argument", DEPRECATED_ROUTABLE)}, a.warnings()
    out = tf_aws.outputs()["net"]
    assert (out["pod_network_mode"], out["pod_network_routable"]) == ("unroutable", False)
    assert out["remote_pod_cidrs"] == [POD_CIDR] and out["webhook_ports"] is None
    assert route_set(out["routes"]) == {(s.route_table_id, NODE_CIDR, gw, "node")}

    # AWS: one route of ours (the node CIDR), the foreign default route untouched.
    assert routes_of(aws.ec2, s.route_table_id) == {VPC_CIDR: "local", SECONDARY_CIDR: "local",
                                                     "0.0.0.0/0": s.internet_gateway_id, NODE_CIDR: gw}
    # Rules: EKS's inbound 443 from the nodes is adopted as it is; the one rule added is
    # kubelet egress to the nodes; nothing to or from the pod CIDR.
    node_egress = ("egress", "tcp", 10250, 10250, NODE_CIDR)
    assert rules_in(aws, s.security_group_id) == before | {node_egress}
    assert our_rules(aws.ec2, s.security_group_id) == {node_egress}
    assert set(out["security_group_rule_ids"]) == {s.eks_rule_id} | rule_ids_for(aws, s, {node_egress})
    assert out["adopted_security_group_rule_ids"] == [s.eks_rule_id]
    assert_aws_matches(aws, s, gateway, routable=False, ports=())
    assert_clean(tf_aws)
    if spelled != "mode":
        # Moving from the boolean to the mode changes nothing.
        tf_aws.write(resource_hcl(network_args(s, gateway, webhook_ports=None, pod_network_mode="unroutable")))
        assert_clean(tf_aws)


# ---------------------------------------------------------------- 4. gateway change

@pytest.mark.parametrize("old,new", [("tgw", "tgw2"), ("tgw", "vgw"), ("vgw", "tgw")])
def test_gateway_change_replaces_attachment_and_repoints_routes(tf_aws, aws, seeded, old, new):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, old)))
    before = apply(tf_aws)["net"]

    tf_aws.write(resource_hcl(network_args(s, new)))
    assert_update_planned(tf_aws)
    after = apply(tf_aws)["net"]

    new_gw, old_gw = s.gateway(new), s.gateway(old)
    assert_aws_matches(aws, s, new)
    assert old_gw not in routes_of(aws.ec2, s.route_table_id).values()
    if old.startswith("tgw"):
        assert tgw_attachments(aws.ec2, s.vpc_id, old_gw) == [], "the old attachment is deleted"
    else:
        assert vgw_attachment_state(aws.ec2, old_gw, s.vpc_id) in ("detached", None)
    assert after["attachment_id"] == attachment_id_of(aws, s, new) != before["attachment_id"]
    assert {r["target_id"] for r in after["routes"]} == {new_gw}
    assert set(after["security_group_rule_ids"]) == set(before["security_group_rule_ids"]), "rules are untouched"
    assert_clean(tf_aws)


# ---------------------------------------------------------------- 5. import

@over_clis("gateway", GATEWAYS, tofu=("tgw",))
def test_import_then_empty_plan(tf_aws, aws, seeded, gateway):
    s = seeded
    # No output block: `state rm` drops root outputs, and an output-only change makes
    # `plan -detailed-exitcode` exit 2.
    tf_aws.write(resource_hcl(network_args(s, gateway), output=False))
    missing = tf_aws.run("import", "-no-color", "-input=false", ADDR, "nope")
    assert not missing.ok, "importing a cluster that does not exist fails"
    assert state_list(tf_aws) == []

    ok(tf_aws.apply())
    created = state_values(tf_aws)
    rm = tf_aws.run("state", "rm", "-no-color", ADDR)
    assert rm.ok, rm.stdout + rm.stderr
    assert state_list(tf_aws) == []

    imp = tf_aws.run("import", "-no-color", "-input=false", ADDR, s.cluster_name)
    assert imp.ok, imp.stdout + imp.stderr
    assert_clean(tf_aws)

    got = state_values(tf_aws)
    for k in ("id", "cluster_name", "vpc_id", "security_group_id", "attachment_id", "remote_node_cidrs",
              "remote_pod_cidrs", "transit_gateway_id", "vpn_gateway_id", "webhook_ports", "tags",
              "eks_network_interface_ips", "service_cidr", "vpc_cidrs", "onprem_firewall_rules"):
        assert got[k] == created[k], f"{k}: imported {got[k]!r}, created {created[k]!r}"
    assert route_set(got["routes"]) == route_set(created["routes"])
    assert set(got["security_group_rule_ids"]) == set(created["security_group_rule_ids"])
    assert set(got["route_table_ids"]) == {s.route_table_id}
    if gateway == "tgw":
        assert set(got["attachment_subnet_ids"]) == {s.subnet_a, s.subnet_b}
    assert_aws_matches(aws, s, gateway)


def test_state_from_an_earlier_release_upgrades_and_damaged_state_is_one_clear_error(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s), output=False))
    ok(tf_aws.apply())
    created = state_values(tf_aws)
    path = Path(tf_aws.dir) / "terraform.tfstate"
    good = json.loads(path.read_text())

    def write_state(change) -> None:
        doc = json.loads(json.dumps(good))
        doc["serial"] += 1
        change(doc["resources"][0]["instances"][0])
        path.write_text(json.dumps(doc))

    def earlier_release(inst: dict) -> None:
        # As an earlier release wrote it: attributes added since are absent, one since
        # removed is present, and numbers are strings.
        attrs = inst["attributes"]
        for k in ("eks_network_interface_ips", "onprem_firewall_rules", "service_cidr", "vpc_cidrs", "timeouts",
                  "pod_network_routable", "manage_attachment", "create_route_table", "manage_security_group_rules"):
            attrs.pop(k, None)
        attrs["legacy_attribute_since_removed"] = True
        attrs["webhook_ports"] = [str(p) for p in attrs["webhook_ports"]]

    write_state(earlier_release)
    assert_clean(tf_aws)
    ok(tf_aws.run("apply", "-refresh-only", "-auto-approve", "-json", "-no-color", "-input=false"))
    got = state_values(tf_aws)
    assert "legacy_attribute_since_removed" not in got
    assert set(got) == set(created), "every attribute of this release is back, the removed one is gone"
    for k, v in created.items():
        assert got[k] == v or k in ("routes", "security_group_rule_ids", "route_table_ids", "attachment_subnet_ids"), \
            f"{k}: {got[k]!r} after the upgrade, {v!r} before"
    assert route_set(got["routes"]) == route_set(created["routes"])
    assert set(got["security_group_rule_ids"]) == set(created["security_group_rule_ids"])

    # Damaged state: one error that says what to do, and the plugin keeps serving.
    write_state(lambda inst: inst.update(attributes={"remote_node_cidrs": {"a": 1}}))
    bad = tf_aws.plan()
    assert not bad.ok
    errs = bad.errors()
    assert [e.get("summary") for e in errs] == ["Invalid resource state"], errs
    assert "restore it from a backup" in errs[0].get("detail", ""), errs
    path.write_text(json.dumps({**good, "serial": good["serial"] + 3}))
    assert_clean(tf_aws)
    assert_aws_matches(aws, s, "tgw")


# ---------------------------------------------------------------- 6. destroy

@over_clis("gateway", GATEWAYS, tofu=("tgw",))
def test_destroy_leaves_nothing_of_ours(tf_aws, aws, seeded, gateway):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, gateway)))
    apply(tf_aws)
    destroy(tf_aws)
    assert state_list(tf_aws) == []

    ec2, gw = aws.ec2, s.gateway(gateway)
    routes = routes_of(ec2, s.route_table_id)
    assert NODE_CIDR not in routes and POD_CIDR not in routes
    assert gw not in routes.values()
    assert routes["0.0.0.0/0"] == s.internet_gateway_id, "the foreign route remains"
    rows = rule_rows(ec2, s.security_group_id)
    assert [r for r in rows if r["description"].startswith("hybridnet:")] == []
    assert {s.eks_rule_id, s.foreign_rule_id} <= {r["id"] for r in rows}, "foreign rules remain"
    if gateway == "tgw":
        assert tgw_attachments(ec2, s.vpc_id) == []
    else:
        assert vgw_attachment_state(ec2, gw, s.vpc_id) == "detached"
    # The objects the resource only used are all still there.
    assert ec2.describe_vpcs(VpcIds=[s.vpc_id])["Vpcs"]
    assert ec2.describe_security_groups(GroupIds=[s.security_group_id])["SecurityGroups"]
    assert ec2.describe_transit_gateways(TransitGatewayIds=[s.transit_gateway_id])["TransitGateways"][0]["State"] == "available"
    assert ec2.describe_vpn_gateways(VpnGatewayIds=[s.vpn_gateway_id])["VpnGateways"]


# ---------------------------------------------------------------- dedicated route table, manage_attachment, adoption

def test_dedicated_route_table_is_created_associated_and_deleted(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, "tgw", route_table_ids=None, create_route_table=True,
                                           route_table_subnet_ids=[s.subnet_a2])))
    out = apply(tf_aws)["net"]
    rt = out["route_table_id"]
    assert rt and rt.startswith("rtb-") and rt not in (s.route_table_id, s.main_route_table_id)
    table = aws.ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]
    assert table["VpcId"] == s.vpc_id
    assert {a.get("SubnetId") for a in table["Associations"]} == {s.subnet_a2}
    assert {t["Key"]: t["Value"] for t in table.get("Tags", [])}.get("team") == "platform"
    assert route_set(out["routes"]) == {(rt, NODE_CIDR, s.transit_gateway_id, "node"),
                                        (rt, POD_CIDR, s.transit_gateway_id, "pod")}
    assert {d for d, t in routes_of(aws.ec2, rt).items() if t == s.transit_gateway_id} == {NODE_CIDR, POD_CIDR}
    assert s.transit_gateway_id not in routes_of(aws.ec2, s.route_table_id).values()
    assert_clean(tf_aws)

    destroy(tf_aws)
    assert aws.ec2.describe_route_tables(Filters=[{"Name": "route-table-id", "Values": [rt]}])["RouteTables"] == []


def test_unmanaged_attachment_is_required_and_left_alone(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, "tgw", manage_attachment=False, attachment_subnet_ids=None)))
    p = tf_aws.plan()
    assert not p.ok
    err = the_error(p)
    assert highlighted(err) == json.dumps(s.transit_gateway_id), err
    assert s.vpc_id in diag_text(err)

    existing = aws.ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=s.transit_gateway_id, VpcId=s.vpc_id, SubnetIds=[s.subnet_a, s.subnet_b],
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    out = apply(tf_aws)["net"]
    assert out["attachment_id"] == existing
    destroy(tf_aws)
    assert [a["TransitGatewayAttachmentId"] for a in tgw_attachments(aws.ec2, s.vpc_id)] == [existing]
    assert NODE_CIDR not in routes_of(aws.ec2, s.route_table_id)


def test_leftovers_of_an_interrupted_run_are_adopted(tf_aws, aws, seeded):
    s = seeded
    # What a run killed after creating the attachment and one route leaves behind.
    att = aws.ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=s.transit_gateway_id, VpcId=s.vpc_id, SubnetIds=[s.subnet_a, s.subnet_b],
        TagSpecifications=[{"ResourceType": "transit-gateway-attachment", "Tags": [
            {"Key": "hybridnet:cluster-network", "Value": s.cluster_name}, {"Key": "team", "Value": "platform"}]}],
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=NODE_CIDR, TransitGatewayId=s.transit_gateway_id)

    tf_aws.write(resource_hcl(network_args(s, "tgw")))
    out = apply(tf_aws)["net"]
    assert out["attachment_id"] == att
    assert_aws_matches(aws, s, "tgw")
    assert_clean(tf_aws)


# ---------------------------------------------------------------- 7. plan-time checks

def _subnets_with_bad_one_misplaced(good: list[str], bad: str) -> list[str]:
    """An order in which the bad subnet's position differs from its position in the
    sorted set Terraform hands the provider, so pointing at the wrong element shows."""
    ordered = sorted(good + [bad])
    if ordered.index(bad) == 0:
        return good + [bad]
    return [bad] + good


def plan_check_cases():
    # (id, seed tweak, args override (fn of Seed), severity, attribute, underlined (fn of Seed), fragments)
    return [
        ("cluster-missing", None, lambda s: {"cluster_name": "nope"}, "error", "cluster_name",
         lambda s: '"nope"', ["nope"]),
        ("node-cidr-not-in-eks", None, lambda s: {"remote_node_cidrs": [NODE_CIDR, "192.168.12.0/22"]}, "error",
         "remote_node_cidrs[1]", lambda s: '"192.168.12.0/22"', ["192.168.12.0/22", NODE_CIDR]),
        ("pod-cidr-not-in-eks", None, lambda s: {"remote_pod_cidrs": [POD_CIDR, "172.18.0.0/16"]}, "error",
         "remote_pod_cidrs[1]", lambda s: '"172.18.0.0/16"', ["172.18.0.0/16", POD_CIDR]),
        ("subnets-one-az", None, lambda s: {"attachment_subnet_ids": [s.subnet_a, s.subnet_a2]}, "error",
         "attachment_subnet_ids", None, ["Availability Zone"]),
        ("one-subnet", None, lambda s: {"attachment_subnet_ids": [s.subnet_a]}, "error",
         "attachment_subnet_ids", None, ["two"]),
        ("subnet-outside-vpc", None,
         lambda s: {"attachment_subnet_ids": _subnets_with_bad_one_misplaced([s.subnet_a, s.subnet_b], s.other_subnet)},
         "error", "attachment_subnet_ids", lambda s: json.dumps(s.other_subnet), ["other_vpc"]),
        ("node-overlaps-secondary-vpc-cidr", "overlap",
         lambda s: {"remote_node_cidrs": [NODE_CIDR, "10.1.4.0/22"]}, "error",
         "remote_node_cidrs[1]", lambda s: '"10.1.4.0/22"', ["10.1.0.0/16"]),
        ("pod-overlaps-service-cidr", "service-overlap",
         lambda s: {"remote_pod_cidrs": [POD_CIDR, "172.20.128.0/17"]}, "error",
         "remote_pod_cidrs[1]", lambda s: '"172.20.128.0/17"', [SERVICE_CIDR]),
    ]


@over_clis("case", plan_check_cases(), ids=[c[0] for c in plan_check_cases()],
           tofu=("cluster-missing", "pod-cidr-not-in-eks", "subnet-outside-vpc"))
def test_plan_time_checks_point_at_the_attribute(tf_aws, aws, seeded, case):
    _id, tweak, override, severity, attr, underline, fragments = case
    s = seeded
    if tweak == "overlap":
        set_remote_networks(aws.eks, s.cluster_name, [NODE_CIDR, "10.1.4.0/22"], [POD_CIDR])
    elif tweak == "service-overlap":
        set_remote_networks(aws.eks, s.cluster_name, [NODE_CIDR], [POD_CIDR, "172.20.128.0/17"])
    tf_aws.write(resource_hcl(network_args(s, "tgw", **override(s))))
    p = tf_aws.plan()
    assert not p.ok, changes_text(p)
    err = the_error(p)
    text = diag_text(err)
    fragments = [s.other_vpc_id if f == "other_vpc" else f for f in fragments]
    for f in fragments:
        assert f in text, f"{f!r} not in {text!r}"
    assert err.get("detail"), "every error says how to fix it"
    got = highlighted(err)
    if attr == "attachment_subnet_ids" and underline is not None:
        # A set: Terraform hands the provider its elements sorted, so an element index
        # need not match the configuration's order. Underlining the bad element or the
        # whole list is right; underlining another element is not.
        assert got == underline(s) or (got is not None and got.startswith("[") and underline(s) in got), \
            f"underlined {got!r}, wanted {underline(s)!r} or the whole list"
    elif underline is not None:
        assert got == underline(s), f"underlined {got!r}, wanted {underline(s)!r} ({attr})"
    else:
        # A whole-list problem: the list itself is underlined.
        assert got is not None and got.startswith("[") and s.subnet_a in got, f"underlined {got!r} ({attr})"
    # Nothing was created.
    assert tgw_attachments(aws.ec2, s.vpc_id) == []
    assert our_rules(aws.ec2, s.security_group_id) == set()


def test_vpc_without_dns_hostnames_is_reported(tf_aws, aws):
    s = seed_cluster_network(aws.ec2, aws.eks, dns_hostnames=False)
    tf_aws.write(resource_hcl(network_args(s, "tgw")))
    p = tf_aws.plan()
    assert p.returncode == 1 and p.warnings() == [], p.diagnostics()
    d = the_error(p)
    assert d["severity"] == "error"
    assert d["summary"] == "The cluster's VPC lacks DNS support"
    assert d["detail"] == (
        f"VPC {s.vpc_id} of cluster edge has DNS hostnames disabled; EKS Hybrid Nodes require both DNS hostnames "
        f"and DNS resolution. Enable them with `aws ec2 modify-vpc-attribute --vpc-id {s.vpc_id} "
        "--enable-dns-hostnames` (and --enable-dns-support).")
    assert highlighted(d) == json.dumps(s.cluster_name), f"underlined {highlighted(d)!r}"


@pytest.mark.parametrize("which", ["both", "neither"])
def test_exactly_one_gateway(tf_aws, aws, seeded, which):
    s = seeded
    if which == "both":
        args = network_args(s, "tgw", vpn_gateway_id=s.vpn_gateway_id)
    else:
        args = network_args(s, "tgw", transit_gateway_id=None)
    tf_aws.write(resource_hcl(args))
    v = tf_aws.validate()
    assert not v.ok
    err = the_error(v)
    text = diag_text(err)
    assert "transit_gateway_id" in text and "vpn_gateway_id" in text, text
    if which == "both":
        assert highlighted(err) in (json.dumps(s.transit_gateway_id), json.dumps(s.vpn_gateway_id)), highlighted(err)
    p = tf_aws.plan()
    assert not p.ok and [e["summary"] for e in p.errors()] == [err["summary"]]


def test_security_group_near_the_inbound_limit_warns(tf_aws, aws, seeded):
    s = seeded
    fill_inbound_rules(aws.ec2, s.security_group_id, 60)
    tf_aws.write(resource_hcl(network_args(s, "tgw")))
    p = tf_aws.plan()
    assert p.ok, changes_text(p) + p.stderr[-2000:]
    assert p.errors() == []
    warns = [w for w in p.warnings() if "60" in diag_text(w)]
    assert len(warns) == 1, p.warnings()
    assert s.security_group_id in diag_text(warns[0])
    assert highlighted(warns[0]) == json.dumps(s.security_group_id), highlighted(warns[0])
    assert planned_actions(p).get(ADDR) == "create"


# ---------------------------------------------------------------- 8. AWS unreachable, no region, no credentials

FAKE = {
    "cluster_name": "edge",
    "remote_node_cidrs": [NODE_CIDR],
    "transit_gateway_id": "tgw-0123456789abcdef0",
    "attachment_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    "route_table_ids": ["rtb-0123456789abcdef0"],
    "security_group_id": "sg-0123456789abcdef0",
}


def _no_aws_env(**kw) -> dict:
    env = {
        "AWS_EC2_METADATA_DISABLED": "true",  # never IMDS (a non-loopback address)
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    env.update(kw)
    return env


@pytest.mark.parametrize("case", ["unreachable", "no-region", "no-credentials"])
def test_aws_trouble_is_one_clear_error_in_bounded_time(tf, case):
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    if case == "unreachable":
        env = terraform_env_for(url)
        fragment = "endpoint"
    elif case == "no-region":
        env = _no_aws_env(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        fragment = "region"
    else:
        env = _no_aws_env(AWS_ENDPOINT_URL=url, AWS_REGION="us-east-1")
        fragment = "credential"
    tf.env.update(env)
    tf.write(resource_hcl(FAKE))
    v = tf.validate()
    assert v.ok, v.stdout  # nothing about AWS is needed to validate

    start = time.monotonic()
    p = tf.run("plan", "-json", "-no-color", "-input=false", timeout=120)
    elapsed = time.monotonic() - start
    assert not p.ok
    assert elapsed < 90, f"plan took {elapsed:.0f}s"
    err = the_error(p)
    where = err["summary"] if case != "unreachable" else diag_text(err)
    assert fragment in where.lower(), err
    assert err.get("detail"), "the error says how to fix it"
    assert "panic" not in p.stderr.lower() and "crash" not in p.stderr.lower(), p.stderr[-3000:]


def test_cidr_plan_needs_no_aws_at_all(tf):
    tf.env.update(_no_aws_env())
    tf.write("""
provider "hybridnet" {}

data "hybridnet_cidr_plan" "only" {
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["192.168.0.0/22"]
}

output "routes" {
  value = data.hybridnet_cidr_plan.only.vpc_routes
}
""")
    a = tf.apply()
    assert a.ok, a.stdout + a.stderr
    assert a.errors() == []
    assert tf.outputs()["routes"] == [{"destination_cidr": "192.168.0.0/22", "network": "node"}]


# ---------------------------------------------------------------- 9. data source

@pytest.mark.parametrize("gateway", GATEWAYS)
def test_data_source_reports_what_is_missing(tf_aws, aws, seeded, gateway):
    s = seeded
    tf_aws.write(data_source_hcl(s))
    ds = apply(tf_aws)["ds"]
    assert ds["vpc_id"] == s.vpc_id
    assert ds["vpc_cidrs"] == s.vpc_cidrs
    assert ds["service_cidr"] == SERVICE_CIDR
    assert ds["eks_network_interface_ips"] == s.eni_ips
    assert ds["remote_node_cidrs"] == [NODE_CIDR] and ds["remote_pod_cidrs"] == [POD_CIDR]
    # Exactly what the resource would make; EKS's own rule covers ingress 443 from the
    # nodes, and the VPC has DNS support, so neither is named.
    assert ds["missing"] == [
        f"a transit gateway or virtual private gateway route for {NODE_CIDR}, {POD_CIDR} in VPC {s.vpc_id}",
        f"security group {s.security_group_id}: ingress tcp 443 from {POD_CIDR}",
        f"security group {s.security_group_id}: egress tcp 10250 to {NODE_CIDR}",
    ], ds["missing"]

    tf_aws.write(resource_hcl(network_args(s, gateway), extra=data_source_hcl(s, depends=True)))
    out = apply(tf_aws)
    ds, net = out["ds"], out["net"]
    assert ds["missing"] == [], ds["missing"]
    assert ds["gateway_id"] == s.gateway(gateway)
    assert ds["attachment_id"] == net["attachment_id"]
    assert route_set(ds["routes"]) == route_set(net["routes"])
    assert ds["eks_network_interface_ips"] == net["eks_network_interface_ips"] == s.eni_ips

    # A route deleted out of band shows up in `missing` again.
    aws.ec2.delete_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR)
    ok(tf_aws.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color", "-json"))
    missing = tf_aws.outputs()["ds"]["missing"]
    # Note: moto 5.2.5 treats a multi-valued `route.destination-cidr-block` filter as
    # "the table's routes are a subset or superset of the values", not as OR like EC2: a
    # table holding only some of the CIDRs is then not found. Select tables client-side.
    assert len(missing) == 1 and POD_CIDR in missing[0] and s.route_table_id in missing[0], missing


def test_data_source_for_missing_cluster_fails_on_cluster_name(tf_aws, aws, seeded):
    s = seeded
    tf_aws.write(data_source_hcl(s).replace('"edge"', '"nope"'))
    p = tf_aws.plan()
    assert not p.ok
    err = the_error(p)
    assert "nope" in diag_text(err)
    assert highlighted(err) == '"nope"'


@pytest.mark.parametrize("gateway,attr,bad", [
    ("tgw", "transit_gateway_id", "tgw-0000000000000dead"),
    ("vgw", "vpn_gateway_id", "vgw-0000000000000dead"),
])
def test_gateway_that_does_not_exist_fails_at_plan(tf_aws, aws, seeded, gateway, attr, bad):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, gateway, **{attr: bad})))
    p = tf_aws.plan()
    assert not p.ok
    err = the_error(p)
    assert bad in diag_text(err) and "not found" in err["summary"], err
    assert highlighted(err) == f'"{bad}"'
    # Nothing was created.
    assert routes_of(aws.ec2, s.route_table_id).get(NODE_CIDR) is None
    assert not our_rules(aws.ec2, s.security_group_id)
