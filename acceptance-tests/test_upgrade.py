"""Existing users upgrade in place: the state hybridnet 0.1.0 wrote (schema version 0,
no ownership attributes) upgrades without replacement. What it lists counts as created
by this resource, the first plan with this binary is empty, apply changes nothing, and a
later destroy removes everything it made.

The state is a fixture recorded once with the 0.1.0 binary against moto
(`fixtures/upgrade-0.1.0/record.py`), with `world.json`, the world it describes. moto
draws new IDs each time, so the test rebuilds that world (the seed, then what 0.1.0 made:
the attachment, the routes, the tagged rules) and rewrites the IDs of the state
consistently, old ID to new ID.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from harness import (EKS_RULE_DESCRIPTION, OWNER_TAG, changes_text, destroy, network_hcl, ok, plan_exit,
                     planned_actions, routes_of, rule_rows, state_values, tgw_attachments)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "upgrade-0.1.0"


def rebuild(aws, s, world: dict) -> dict[str, str]:
    """Makes in moto what 0.1.0 made in the recorded world; returns old ID -> new ID."""
    old = world["seed"]
    ids = {v: getattr(s, k) for k, v in old.items() if isinstance(v, str) and v.split("-")[0] in
           ("vpc", "subnet", "rtb", "igw", "tgw", "vgw", "sg", "sgr")}
    ec2 = aws.ec2
    att = world["attachment"]
    made = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=s.transit_gateway_id, VpcId=s.vpc_id, SubnetIds=[ids[x] for x in att["subnet_ids"]])
    ids[att["id"]] = made["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    for rt, routes in world["routes"].items():
        for cidr, target in routes.items():
            ec2.create_route(RouteTableId=ids[rt], DestinationCidrBlock=cidr, TransitGatewayId=ids[target])
    for r in world["rules"]:
        perm = {"IpProtocol": r["protocol"], "FromPort": r["from_port"], "ToPort": r["to_port"],
                "IpRanges": [{"CidrIp": r["cidr"], "Description": r["description"]}]}
        spec = [{"ResourceType": "security-group-rule",
                 "Tags": [{"Key": k, "Value": v} for k, v in r["tags"].items()]}]
        call = ec2.authorize_security_group_egress if r["direction"] == "egress" else \
            ec2.authorize_security_group_ingress
        out = call(GroupId=s.security_group_id, IpPermissions=[perm], TagSpecifications=spec)
        ids[r["id"]] = out["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    return ids


def rewrite(text: str, ids: dict[str, str]) -> str:
    for old, new in ids.items():
        text = text.replace(old, new)
    return text


def test_state_of_0_1_0_upgrades_in_place_then_destroy_removes_everything(tf_aws, aws, seeded):
    s = seeded
    world = json.loads((FIXTURE / "world.json").read_text())
    assert world["seed"]["cluster_name"] == s.cluster_name
    assert set(world["seed"]) == {f.name for f in dataclasses.fields(s)}, "the seed changed: re-record the fixture"
    ids = rebuild(aws, s, world)
    state_text = rewrite((FIXTURE / "terraform.tfstate").read_text(), ids)
    recorded = json.loads(state_text)
    inst = recorded["resources"][0]["instances"][0]
    assert inst["schema_version"] == 0 and "attachment_created" not in inst["attributes"]
    (tf_aws.dir / "terraform.tfstate").write_text(state_text)
    args = json.loads(rewrite(json.dumps(world["config"]), ids))
    tf_aws.write(network_hcl(args, output=False))

    # The first plan with this binary: nothing to do, no replacement.
    p = plan_exit(tf_aws)
    assert p.returncode == 0, f"exit {p.returncode}: {planned_actions(p)}\n{changes_text(p)}\n{p.stderr[-2000:]}"
    ok(tf_aws.apply())
    st = state_values(tf_aws)
    assert st["attachment_id"] == ids[world["attachment"]["id"]]
    assert st["attachment_created"] is True, "what 0.1.0 lists counts as created by us"
    assert st["adopted_routes"] == []
    assert st["adopted_security_group_rule_ids"] == [s.eks_rule_id], "EKS's own rule was found, not made"
    doc = json.loads((tf_aws.dir / "terraform.tfstate").read_text())
    assert doc["resources"][0]["instances"][0]["schema_version"] == 1
    p = plan_exit(tf_aws)
    assert p.returncode == 0, changes_text(p)

    # A later destroy removes what 0.1.0 made, and only that.
    destroy(tf_aws)
    assert tgw_attachments(aws.ec2, s.vpc_id) == []
    for rt in (s.route_table_id, s.main_route_table_id):
        assert s.transit_gateway_id not in routes_of(aws.ec2, rt).values(), routes_of(aws.ec2, rt)
    rows = {r["id"]: r for r in rule_rows(aws.ec2, s.security_group_id)}
    assert not [r for r in rows.values() if OWNER_TAG in r["tags"]], rows
    assert rows[s.eks_rule_id]["description"] == EKS_RULE_DESCRIPTION and s.foreign_rule_id in rows
