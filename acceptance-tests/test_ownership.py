"""What a resource made goes with it, and an apply that AWS answers unexpectedly is a
warning, never a taint: gateway-mode destroy revokes the VXLAN rules it made in the
gateway nodes' group; a `pendingAcceptance` the plan did not foresee ends the create with
a warning, the state recording the attachment, the routes waiting for acceptance.

Real Terraform against moto (through the loopback proxy where an answer is rewritten).
"""

from __future__ import annotations

import json

from harness import (NODE_CIDR, OWNER_TAG, POD_CIDR, VXLAN, changes_text, destroy, diag_text, gateway_args,
                     gateway_group, network_args, ok, plan_exit, resource_hcl, routes_to, rule_rows, rules_in,
                     state_values, tgw_attachments, tgw_state, warnings_with)



def test_gateway_mode_destroy_revokes_its_vxlan_rules(tf_aws, aws, seeded):
    s = seeded
    group = gateway_group(aws, s)
    # A rule of the gateway nodes' group that is not ours stays.
    aws.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    before = {g: rules_in(aws, g) for g in (group, s.security_group_id)}
    tf_aws.write(resource_hcl(gateway_args(s, gateway_security_group_id=group), output=False))
    ok(tf_aws.apply())
    assert VXLAN <= rules_in(aws, group)
    tagged = [r for r in rule_rows(aws.ec2, group) if r["tags"].get(OWNER_TAG) == s.cluster_name]
    assert len(tagged) == 2, tagged
    destroy(tf_aws)
    left = rules_in(aws, group)
    assert not (VXLAN & left), f"VXLAN rules left behind in {group}: {left}"
    assert ("ingress", "tcp", 22, 22, "10.0.0.0/8") in left, "a foreign rule stays"
    assert not [r for r in rule_rows(aws.ec2, group) if OWNER_TAG in r["tags"]]
    assert not [r for r in rule_rows(aws.ec2, s.security_group_id) if OWNER_TAG in r["tags"]]
    assert {g: rules_in(aws, g) for g in before} == before, "both groups are back as they were"


def test_unforeseen_pending_acceptance_is_a_warning_and_the_next_apply_after_acceptance_converges(
        tfp, aws, seeded, proxy):
    s = seeded
    tgw = s.transit_gateway_id
    tfp.write(resource_hcl(_args(s), output=False))
    # The gateway is the VPC's own account's, auto-accepting as far as plan can tell: the
    # plan foresees no wait and plans the routes. AWS then answers pendingAcceptance (the
    # gateway's owner or its auto-accept setting changed since the plan).
    proxy.set_rewrite(tgw_state("pendingAcceptance"))
    r = tfp.apply()
    ok(r)
    [att] = tgw_attachments(aws.ec2, s.vpc_id, tgw)
    att_id = att["TransitGatewayAttachmentId"]
    [w] = warnings_with(r, "awaits acceptance")
    assert w["summary"] == f"Attachment {att_id} awaits acceptance: routes not created yet", w
    assert "did not foresee" in diag_text(w) and "apply again" in diag_text(w), diag_text(w)
    doc = json.loads((tfp.dir / "terraform.tfstate").read_text())
    inst = doc["resources"][0]["instances"][0]
    assert inst.get("status") != "tainted", "a warning, never a taint"
    assert inst["attributes"]["attachment_id"] == att_id, "the state records the attachment"
    assert inst["attributes"]["attachment_created"] is True
    assert routes_to(aws.ec2, s, tgw) == set(), "the routes wait for acceptance"
    assert inst["attributes"]["security_group_rule_ids"], "everything else is made"

    # Accepted: the next plan adds the routes in place (no replacement), the apply converges.
    proxy.set_rewrite(None)
    p = plan_exit(tfp)
    assert p.returncode == 2, changes_text(p)
    actions = [m["change"]["action"] for m in p.json_lines() if m.get("type") == "planned_change"]
    assert actions == ["update"], actions
    ok(tfp.apply())
    assert routes_to(aws.ec2, s, tgw) == {NODE_CIDR, POD_CIDR}
    assert state_values(tfp)["attachment_id"] == att_id
    assert [a["TransitGatewayAttachmentId"] for a in tgw_attachments(aws.ec2, s.vpc_id)] == [att_id]
    p = plan_exit(tfp)
    assert p.returncode == 0, changes_text(p)


def _args(s) -> dict:
    return network_args(s, "tgw")


def test_a_route_no_other_cluster_needs_left_by_an_interrupted_run_counts_as_ours(tf_aws, aws, seeded):
    s = seeded
    tgw = s.transit_gateway_id
    # What a run killed after its first CreateRoute leaves: the attachment and one route,
    # no state. Routes carry no tags; no other cluster of the VPC routes this CIDR.
    aws.ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=s.vpc_id,
                                                  SubnetIds=[s.subnet_a, s.subnet_b])
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=NODE_CIDR, TransitGatewayId=tgw)
    tf_aws.write(resource_hcl(_args(s), output=False))
    ok(tf_aws.apply())
    st = state_values(tf_aws)
    assert st["adopted_routes"] == [], "a route nobody else needs is ours"
    assert routes_to(aws.ec2, s, tgw) == {NODE_CIDR, POD_CIDR}
    destroy(tf_aws)
    assert routes_to(aws.ec2, s, tgw) == set(), "destroy removes it"
