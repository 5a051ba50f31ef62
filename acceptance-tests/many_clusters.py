"""K `hybridnet_cluster_network` resources in one configuration, for the bucket-proxy
test (test_many_clusters.py) and the benchmark (scripts/bench_e2e.py `many`).

Each cluster has its own VPC (seeded by `seed.seed_cluster_network`), its own transit
gateway, 2 route tables (a custom one and the main one) and 6 remote CIDRs (4 node, 2
pod); one `for_each` over them.
"""

from __future__ import annotations

from harness import (Raw, Seed, hcl, network_hcl, seed_cluster_network)

NODES = [f"192.168.{i}.0/24" for i in range(4)]
PODS = ["172.16.0.0/18", "172.16.64.0/18"]


def seed_many(ec2, eks, k: int) -> list[Seed]:
    return [seed_cluster_network(ec2, eks, cluster_name=f"c{i:02d}", node_cidrs=NODES, pod_cidrs=PODS, eks_rule=False)
            for i in range(k)]


def config_many(seeds: list[Seed]) -> str:
    clusters = {
        s.cluster_name: {"tgw": s.transit_gateway_id, "subnets": [s.subnet_a, s.subnet_b],
                         "tables": [s.route_table_id, s.main_route_table_id], "sg": s.security_group_id}
        for s in seeds
    }
    body = "\n".join(f"    {hcl(name)} = {hcl(v)}" for name, v in clusters.items())
    args = {
        "cluster_name": Raw("each.key"),
        "remote_node_cidrs": NODES,
        "remote_pod_cidrs": PODS,
        "transit_gateway_id": Raw("each.value.tgw"),
        "attachment_subnet_ids": Raw("each.value.subnets"),
        "route_table_ids": Raw("each.value.tables"),
        "security_group_id": Raw("each.value.sg"),
        "webhook_ports": [9443],
    }
    return network_hcl(args, name="c", output=False, meta="for_each = local.clusters",
                       extra=f"locals {{\n  clusters = {{\n{body}\n  }}\n}}")


def leftovers(ec2, seeds: list[Seed]) -> list[str]:
    """What a destroy left behind in AWS: routes to a cluster's transit gateway, live
    attachments, rules with a hybridnet: description."""
    out = []
    for s in seeds:
        for t in (s.route_table_id, s.main_route_table_id):
            rt = ec2.describe_route_tables(RouteTableIds=[t])["RouteTables"][0]
            out += [f"{t} {r.get('DestinationCidrBlock')}" for r in rt["Routes"]
                    if r.get("TransitGatewayId") == s.transit_gateway_id]
        atts = ec2.describe_transit_gateway_vpc_attachments(
            Filters=[{"Name": "vpc-id", "Values": [s.vpc_id]}])["TransitGatewayVpcAttachments"]
        out += [a["TransitGatewayAttachmentId"] for a in atts if a["State"] not in ("deleted", "deleting")]
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [s.security_group_id]}])["SecurityGroupRules"]
        out += [r["SecurityGroupRuleId"] for r in rules if (r.get("Description") or "").startswith("hybridnet:")]
    return out


def created_everything(ec2, seeds: list[Seed]) -> list[str]:
    """What a create should have made and did not: routes of every CIDR in both tables,
    one attachment per VPC."""
    missing = []
    for s in seeds:
        for t in (s.route_table_id, s.main_route_table_id):
            rt = ec2.describe_route_tables(RouteTableIds=[t])["RouteTables"][0]
            have = {r.get("DestinationCidrBlock") for r in rt["Routes"] if r.get("TransitGatewayId") == s.transit_gateway_id}
            missing += [f"{t} {c}" for c in NODES + PODS if c not in have]
        atts = ec2.describe_transit_gateway_vpc_attachments(
            Filters=[{"Name": "vpc-id", "Values": [s.vpc_id]}])["TransitGatewayVpcAttachments"]
        if len([a for a in atts if a["State"] not in ("deleted", "deleting")]) != 1:
            missing.append(f"attachment of {s.vpc_id}")
    return missing

