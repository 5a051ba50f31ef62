"""The IAM policies of the docs (examples/iam/*.json) against the calls the provider
actually makes.

Representative flows run through the request-counting proxy in front of moto:

- transit gateway: create (dedicated route table associated with a subnet, tags, a
  webhook port), plan, refresh, updates (tags, webhook port, attachment subnets, the
  dedicated table's subnet, a new transit gateway), import, destroy;
- virtual private gateway in gateway mode (a gateway security group with no rule, so its
  existence is asked): create, destroy;
- a private-only cluster audited by the data source (the VPC endpoints read);
- objects wired by hand first (attachment, route, identical rule) handed over to the
  resource, as the migration guide tells, then destroyed: nothing of them is deleted.

Every EC2/EKS operation the proxy saw must be an action of the full policy and of the
tag-scoped one, and every action of either policy must have been seen. The tag-scoped
policy's write statements are checked to carry their tag conditions; AWS, not moto,
evaluates those.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import (ADDR, APPLY, DESTROY, NODE_CIDR, PLAN, POD_CIDR, REFRESH, FaultProxy, Seed,
                     TerraformWorkdir, network_args, network_hcl, routes_of, state_values, tgw_attachments)

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT / "examples" / "iam" / "full.json"
TAG_SCOPED = ROOT / "examples" / "iam" / "tag-scoped.json"
WRITE_CONDITIONS = {"aws:ResourceTag/hybridnet:writable", "aws:ResourceTag/hybridnet:cluster-network",
                    "aws:RequestTag/hybridnet:cluster-network", "ec2:CreateAction"}


def actions(policy: Path) -> set[str]:
    doc = json.loads(policy.read_text())
    out = set()
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow", st
        a = st["Action"]
        out.update([a] if isinstance(a, str) else a)
    return out


def config(s: Seed, **args) -> str:
    """The seeded cluster with no gateway, route table, webhook port or tag but those given."""
    base = dict(route_table_ids=None, webhook_ports=None, tags=None)
    base.update(args)
    return network_hcl(network_args(s, None, **base), output=False)


class Recorder:
    """Runs commands through the proxy and keeps every operation each one caused."""

    def __init__(self, proxy: FaultProxy, tf: TerraformWorkdir):
        self.proxy, self.tf = proxy, tf
        self.seen: dict[str, set[str]] = {}

    def run(self, step: str, *args: str, rc: int = 0) -> dict[str, int]:
        self.proxy.configure(seed=0, rate=0.0)
        r = self.tf.run(*args, timeout=300)
        assert r.returncode == rc, (step, args, r.stdout[-3000:], r.stderr[-3000:])
        assert self.proxy.wait_idle()
        ops = self.proxy.snapshot()["by_operation"]
        for op in ops:
            self.seen.setdefault(op, set()).add(step)
        return ops

    def state(self) -> dict:
        got = state_values(self.tf)
        assert got is not None
        return got


def transit_gateway_flow(rec: Recorder, aws, s: Seed) -> None:
    tf = rec.tf
    args = dict(transit_gateway_id=s.transit_gateway_id, attachment_subnet_ids=[s.subnet_a, s.subnet_b],
                create_route_table=True, route_table_subnet_ids=[s.subnet_a2], webhook_ports=[9443],
                tags={"team": "platform"})
    tf.write(config(s, **args))
    rec.run("create", *APPLY)
    table = rec.state()["route_table_id"]
    assert routes_of(aws.ec2, table).get(NODE_CIDR) == s.transit_gateway_id
    rec.run("plan", *PLAN)
    rec.run("refresh", *REFRESH)

    args.update(tags={"owner": "network"}, webhook_ports=[8443])
    tf.write(config(s, **args))
    ops = rec.run("update tags and webhook port", *APPLY)
    assert {"ec2:CreateTags", "ec2:DeleteTags", "ec2:RevokeSecurityGroupEgress"} <= set(ops), ops

    args.update(attachment_subnet_ids=[s.subnet_a2, s.subnet_b], route_table_subnet_ids=[s.subnet_b])
    tf.write(config(s, **args))
    ops = rec.run("update subnets", *APPLY)
    assert {"ec2:ModifyTransitGatewayVpcAttachment", "ec2:DisassociateRouteTable"} <= set(ops), ops

    args.update(transit_gateway_id=s.transit_gateway_id_2)
    tf.write(config(s, **args))
    rec.run("update gateway", *APPLY)
    assert routes_of(aws.ec2, table).get(NODE_CIDR) == s.transit_gateway_id_2
    assert [a["TransitGatewayId"] for a in tgw_attachments(aws.ec2, s.vpc_id)] == [s.transit_gateway_id_2]

    assert tf.run("state", "rm", ADDR).ok
    rec.run("import", "import", "-no-color", "-input=false", ADDR, s.cluster_name)
    rec.run("plan after import", *PLAN)
    # moto keeps no tags of transit gateway attachments, so the import cannot see the
    # `hybridnet:cluster-network` tag AWS would show: here the attachment counts as found
    # (as one made by hand would), and destroy leaves it.
    imported = rec.state()
    assert imported["attachment_created"] is False and imported["route_table_id"] == table, imported

    ops = rec.run("destroy", *DESTROY)
    assert {"ec2:DeleteRoute", "ec2:DeleteRouteTable", "ec2:RevokeSecurityGroupIngress",
            "eks:ListClusters"} <= set(ops), ops
    left = tgw_attachments(aws.ec2, s.vpc_id)
    assert [a["TransitGatewayId"] for a in left] == [s.transit_gateway_id_2]
    aws.ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=left[0]["TransitGatewayAttachmentId"])
    assert aws.ec2.describe_route_tables(Filters=[{"Name": "route-table-id", "Values": [table]}])["RouteTables"] == []


def vpn_gateway_flow(rec: Recorder, aws, s: Seed) -> None:
    group = aws.ec2.create_security_group(GroupName="hybrid-gateway", Description="gateway nodes",
                                          VpcId=s.vpc_id)["GroupId"]
    # No rule at all (the default egress revoked): only DescribeSecurityGroups tells
    # such a group from a missing one.
    aws.ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    rec.tf.write(config(s, vpn_gateway_id=s.vpn_gateway_id, route_table_ids=[s.route_table_id],
                        pod_network_mode="gateway", gateway_security_group_id=group))
    ops = rec.run("vgw create", *APPLY)
    assert {"ec2:AttachVpnGateway", "ec2:DescribeSecurityGroups"} <= set(ops), ops
    assert routes_of(aws.ec2, s.route_table_id).get(NODE_CIDR) == s.vpn_gateway_id
    ops = rec.run("vgw destroy", *DESTROY)
    assert "ec2:DetachVpnGateway" in ops, ops


def private_cluster_audit(rec: Recorder, aws, s: Seed) -> None:
    aws.eks.update_cluster_config(name=s.cluster_name, resourcesVpcConfig={
        "subnetIds": s.cluster_subnets, "endpointPublicAccess": False, "endpointPrivateAccess": True})
    rec.tf.write(f'provider "hybridnet" {{}}\n\ndata "hybridnet_cluster_network" "this" {{\n'
                 f'  cluster_name = "{s.cluster_name}"\n}}\n')
    ops = rec.run("private cluster audit", *REFRESH)
    assert "ec2:DescribeVpcEndpoints" in ops, ops
    aws.eks.update_cluster_config(name=s.cluster_name, resourcesVpcConfig={
        "subnetIds": s.cluster_subnets, "endpointPublicAccess": True, "endpointPrivateAccess": False})


def hand_wired_handover(rec: Recorder, aws, s: Seed) -> None:
    """The migration guide's claim: objects made by hand (here straight to moto, as the
    AWS provider would) are taken over without a delete, and survive a destroy, except
    the routes, which are the resource's from then on."""
    attachment = aws.ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=s.transit_gateway_id, VpcId=s.vpc_id, SubnetIds=[s.subnet_a, s.subnet_b],
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=NODE_CIDR,
                         TransitGatewayId=s.transit_gateway_id)
    rule = aws.ec2.authorize_security_group_ingress(GroupId=s.security_group_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": POD_CIDR}]}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    rec.tf.write(config(s, transit_gateway_id=s.transit_gateway_id, attachment_subnet_ids=[s.subnet_a, s.subnet_b],
                        route_table_ids=[s.route_table_id]))
    ops = rec.run("hand-wired handover", *APPLY)
    assert not [op for op in ops if op.split(":")[1].startswith(("Delete", "Revoke", "Detach"))], ops
    got = rec.state()
    assert got["attachment_id"] == attachment and got["attachment_created"] is False, got
    assert rule in got["adopted_security_group_rule_ids"], got
    assert routes_of(aws.ec2, s.route_table_id).get(NODE_CIDR) == s.transit_gateway_id
    rec.run("plan after handover", *PLAN)
    rec.run("hand-wired destroy", *DESTROY)
    assert [a["TransitGatewayAttachmentId"] for a in tgw_attachments(aws.ec2, s.vpc_id)] == [attachment]
    rules = aws.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [s.security_group_id]}])
    assert rule in {r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"]}
    assert NODE_CIDR not in routes_of(aws.ec2, s.route_table_id)


def test_policies_hold_every_call_made_and_nothing_more(tfp, proxy, seeded: Seed, aws) -> None:
    rec = Recorder(proxy, tfp)
    transit_gateway_flow(rec, aws, seeded)
    vpn_gateway_flow(rec, aws, seeded)
    private_cluster_audit(rec, aws, seeded)
    hand_wired_handover(rec, aws, seeded)

    seen = {op for op in rec.seen if op.startswith(("ec2:", "eks:"))}
    assert set(rec.seen) == seen, f"calls to other services: {set(rec.seen) - seen}"
    full, scoped = actions(FULL), actions(TAG_SCOPED)
    missing = {op: sorted(rec.seen[op]) for op in seen - full}
    assert missing == {}, f"calls the full policy does not allow (operation: steps): {missing}"
    assert seen - scoped == set(), f"calls the tag-scoped policy does not allow: {sorted(seen - scoped)}"
    # No action granted for nothing: each one was called by some step above.
    assert full - seen == set(), f"actions of full.json no flow called: {sorted(full - seen)}"
    assert scoped - seen == set(), f"actions of tag-scoped.json no flow called: {sorted(scoped - seen)}"
    assert full == scoped


def test_tag_scoped_policy_conditions_every_write() -> None:
    doc = json.loads(TAG_SCOPED.read_text())
    for st in doc["Statement"]:
        acts = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        writes = [a for a in acts if not a.split(":")[1].startswith(("Describe", "List"))]
        if not writes:
            assert st["Resource"] == "*", st
            continue
        keys = {k for cond in st.get("Condition", {}).values() for k in cond}
        assert keys and keys <= WRITE_CONDITIONS, (st["Sid"], keys)
        resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        if "ec2:CreateAction" not in keys:
            assert all(r.startswith("arn:aws:ec2:*:*:") for r in resources), st["Sid"]


def test_docs_show_the_policies_from_the_files() -> None:
    page = (ROOT / "docs" / "guides" / "iam-permissions.md").read_text()
    for policy in (FULL, TAG_SCOPED):
        assert f"```json\n{policy.read_text().rstrip()}\n```" in page, policy.name
    index = (ROOT / "docs" / "index.md").read_text()
    assert f"```json\n{FULL.read_text().rstrip()}\n```" in index
