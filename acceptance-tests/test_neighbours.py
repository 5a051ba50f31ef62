"""Ownership that survives neighbours: several EKS clusters in one VPC share its route
tables and its transit gateway attachment (AWS allows one attachment per VPC and
gateway). Each `hybridnet_cluster_network` records what it created and what it found,
never deletes what it found, and before deleting what it created asks EKS which other
cluster of the VPC still needs it (warning, naming that cluster); the last one out
removes what hybridnet made.

Real Terraform, the real provider, moto on 127.0.0.1. The neighbour is another Terraform
workspace (both destroy orders), the same configuration, or made by hand with boto3.

moto drops the TagSpecifications of CreateTransitGatewayVpcAttachment (AWS keeps them),
so after the first resource creates the attachment the test tags it as AWS would have:
that tag is how the last one out knows hybridnet made the attachment it found.

Figures: each step that takes a resource away records what it kept and removed in AWS and
the warnings it gave, in the `neighbours` section of `$HYBRIDNET_RELIABILITY_REPORT`
(test_reliability's `figures` fixture); `scripts/reliability.sh` renders it in
docs/reliability.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import (NODE_CIDR, OWNER_TAG, POD_CIDR, ROLE_ARN, Seed, SERVICE_CIDR, TerraformWorkdir,
                     assert_clean, destroy, diag_text, network_args, network_hcl, ok, routes_of, rule_rows,
                     terraform_env_for, tgw_attachments)

CLUSTER_2 = "edge-2"
NODE_2 = "192.168.8.0/22"
POD_2 = "172.18.0.0/16"


def args_for(s: Seed, cluster: str, sg: str, nodes: list[str], pods: list[str]) -> dict:
    return network_args(s, "tgw", cluster_name=cluster, remote_node_cidrs=nodes, remote_pod_cidrs=pods,
                        security_group_id=sg, webhook_ports=None, tags=None)


def config(resources: dict[str, dict]) -> str:
    return network_hcl(resources=resources, output=False)


def add_cluster(aws, s: Seed, name: str, nodes: list[str], pods: list[str]) -> None:
    """Another EKS cluster in the seeded VPC, with its own remote networks."""
    remote = {"remoteNodeNetworks": [{"cidrs": nodes}]}
    if pods:
        remote["remotePodNetworks"] = [{"cidrs": pods}]
    aws.eks.create_cluster(name=name, roleArn=ROLE_ARN, resourcesVpcConfig={"subnetIds": [s.subnet_a, s.subnet_b]},
                           kubernetesNetworkConfig={"serviceIpv4Cidr": SERVICE_CIDR}, remoteNetworkConfig=remote)


def own_group(aws, s: Seed, name: str) -> str:
    return aws.ec2.create_security_group(GroupName=f"eks-cluster-sg-{name}", Description=f"EKS {name}",
                                         VpcId=s.vpc_id)["GroupId"]


def workspace(tmp_path: Path, name: str, aws, terraform_bin: str, provider_dir: Path) -> TerraformWorkdir:
    work = tmp_path / name
    work.mkdir()
    return TerraformWorkdir(work, terraform_bin, provider_dir, extra_env=terraform_env_for(aws.url))


def to_tgw(aws, s: Seed) -> set[str]:
    return {c for c, t in routes_of(aws.ec2, s.route_table_id).items() if t == s.transit_gateway_id}


def attachment_ids(aws, s: Seed) -> list[str]:
    return [a["TransitGatewayAttachmentId"] for a in tgw_attachments(aws.ec2, s.vpc_id, s.transit_gateway_id)]


def tag_as_aws_would(aws, attachment: str, cluster: str) -> None:
    aws.ec2.create_tags(Resources=[attachment], Tags=[{"Key": OWNER_TAG, "Value": cluster}])


def values(tf: TerraformWorkdir, name: str) -> dict | None:
    import json
    r = tf.run("show", "-json", "-no-color")
    assert r.ok, r.stderr
    resources = (json.loads(r.stdout).get("values") or {}).get("root_module", {}).get("resources", [])
    return next((x["values"] for x in resources if x["address"] == f"hybridnet_cluster_network.{name}"), None)


def world(aws, s: Seed, groups: dict[str, str]) -> set[str]:
    """What is in AWS for the clusters of the VPC: routes to the gateways, the attachments, our
    rules (`groups`: security group ID -> the cluster it belongs to), named without random IDs
    where one object of the kind exists."""
    second = {s.transit_gateway_id_2: " via TGW 2"}
    out = {f"route {c}{second.get(t, '')}" for c, t in routes_of(aws.ec2, s.route_table_id).items()
           if t in (s.transit_gateway_id, s.transit_gateway_id_2)}
    out |= {f"attachment{second.get(a['TransitGatewayId'], '')}" for a in tgw_attachments(aws.ec2, s.vpc_id)}
    out |= {f"rule {x['id']} of {cluster}'s group" for g, cluster in groups.items()
            for x in rule_rows(aws.ec2, g) if OWNER_TAG in x["tags"]}
    return out


def record(figures, aws, s: Seed, groups: dict[str, str], before: set[str], r, scenario: str,
           step: str) -> None:
    """One step's figures: what stayed and what went of what was there before it, and its warnings."""
    after = world(aws, s, groups)
    figures.add("neighbours", {"scenario": scenario, "step": step, "kept": sorted(before & after),
                               "removed": sorted(before - after), "added": sorted(after - before),
                               "warnings": [w["summary"] for w in r.warnings()], "exit_code": r.returncode})


@pytest.fixture
def two_clusters(aws, seeded):
    """The seeded cluster `edge` and `edge-2` in the same VPC, each with its own security group."""
    s = seeded
    add_cluster(aws, s, CLUSTER_2, [NODE_2], [POD_2])
    return s, own_group(aws, s, CLUSTER_2)


# ---------------------------------------------------------------- scenario A: two workspaces, both orders

@pytest.mark.parametrize("first_out", ["creator", "adopter"])
def test_two_clusters_share_the_attachment_and_the_last_one_out_removes_it(
        tmp_path, terraform_bin, provider_dir, aws, two_clusters, first_out, figures):
    s, sg2 = two_clusters
    w1 = workspace(tmp_path, "one", aws, terraform_bin, provider_dir)
    w2 = workspace(tmp_path, "two", aws, terraform_bin, provider_dir)
    w1.write(config({"a": args_for(s, s.cluster_name, s.security_group_id, [NODE_CIDR], [POD_CIDR])}))
    w2.write(config({"b": args_for(s, CLUSTER_2, sg2, [NODE_2], [POD_2])}))

    ok(w1.apply())
    [att] = attachment_ids(aws, s)
    tag_as_aws_would(aws, att, s.cluster_name)
    r = ok(w2.apply())  # DuplicateTransitGatewayAttachment: adopted
    assert r.warnings() == [], r.warnings()
    assert attachment_ids(aws, s) == [att]
    a, b = values(w1, "a"), values(w2, "b")
    assert (a["attachment_id"], a["attachment_created"]) == (att, True)
    assert (b["attachment_id"], b["attachment_created"]) == (att, False), "found, not made"
    assert a["adopted_routes"] == [] and b["adopted_routes"] == []
    assert to_tgw(aws, s) == {NODE_CIDR, POD_CIDR, NODE_2, POD_2}
    assert_clean(w1)
    assert_clean(w2)

    first, second, first_cluster, second_cluster, second_cidrs, first_cidrs = (
        (w1, w2, s.cluster_name, CLUSTER_2, {NODE_2, POD_2}, {NODE_CIDR, POD_CIDR}) if first_out == "creator"
        else (w2, w1, CLUSTER_2, s.cluster_name, {NODE_CIDR, POD_CIDR}, {NODE_2, POD_2}))
    scenario = f"two workspaces, the {first_out} leaves first"
    groups = {s.security_group_id: s.cluster_name, sg2: CLUSTER_2}
    before = world(aws, s, groups)
    r = destroy(first)
    record(figures, aws, s, groups, before, r, scenario, f"destroy {first_cluster}")
    [w] = [w for w in r.warnings() if "kept" in w["summary"]]
    assert w["summary"] == f"Attachment to {s.transit_gateway_id} kept: cluster {second_cluster} still routes " \
                           f"through it", w
    assert s.vpc_id in diag_text(w) and "last resource of the VPC" in diag_text(w), diag_text(w)
    # The neighbour's routes and the attachment they ride on are intact; the leaver's are gone.
    assert attachment_ids(aws, s) == [att]
    assert to_tgw(aws, s) == second_cidrs
    assert_clean(second)

    before = world(aws, s, groups)
    r = destroy(second)
    record(figures, aws, s, groups, before, r, scenario, f"destroy {second_cluster}")
    assert [w for w in r.warnings() if "kept" in w["summary"]] == [], r.warnings()
    assert attachment_ids(aws, s) == [], "the last one out removes the attachment hybridnet made"
    assert to_tgw(aws, s) == set()
    assert first_cidrs.isdisjoint(to_tgw(aws, s))
    for group in (s.security_group_id, sg2):
        assert not [x for x in rule_rows(aws.ec2, group) if OWNER_TAG in x["tags"]], group


# ---------------------------------------------------------------- scenario A: one configuration

def test_two_clusters_in_one_configuration(tmp_path, terraform_bin, provider_dir, aws, two_clusters,
                                           figures):
    s, sg2 = two_clusters
    tf = workspace(tmp_path, "both", aws, terraform_bin, provider_dir)
    a_args = args_for(s, s.cluster_name, s.security_group_id, [NODE_CIDR], [POD_CIDR])
    b_args = args_for(s, CLUSTER_2, sg2, [NODE_2], [POD_2])
    tf.write(config({"a": a_args, "b": b_args}))
    ok(tf.apply())  # both at once: one creates the attachment, the other adopts it
    [att] = attachment_ids(aws, s)
    a, b = values(tf, "a"), values(tf, "b")
    assert a["attachment_id"] == b["attachment_id"] == att
    assert sorted([a["attachment_created"], b["attachment_created"]]) == [False, True], (a, b)
    creator = s.cluster_name if a["attachment_created"] else CLUSTER_2
    tag_as_aws_would(aws, att, creator)
    assert_clean(tf)

    # The creator's resource leaves the configuration: the other keeps its routes and the attachment.
    leaver, stayer = ("a", "b") if creator == s.cluster_name else ("b", "a")
    tf.write(config({stayer: a_args if stayer == "a" else b_args}))
    groups = {s.security_group_id: s.cluster_name, sg2: CLUSTER_2}
    before = world(aws, s, groups)
    r = ok(tf.apply())
    record(figures, aws, s, groups, before, r, "two clusters in one configuration",
           f"remove {creator} (the creator) from it")
    assert any("kept" in w["summary"] for w in r.warnings()), r.warnings()
    assert attachment_ids(aws, s) == [att]
    assert to_tgw(aws, s) == ({NODE_CIDR, POD_CIDR} if stayer == "a" else {NODE_2, POD_2})
    assert_clean(tf)
    before = world(aws, s, groups)
    r = destroy(tf)
    record(figures, aws, s, groups, before, r, "two clusters in one configuration",
           f"destroy {CLUSTER_2 if creator == s.cluster_name else s.cluster_name} (the last)")
    assert attachment_ids(aws, s) == [] and to_tgw(aws, s) == set()


def test_two_clusters_in_one_configuration_destroyed_together(tmp_path, terraform_bin, provider_dir, aws,
                                                             two_clusters):
    """One destroy takes both resources away in parallel: each reads the VPC before the other
    deleted its routes, yet the last one to decide removes the attachment (the provider
    process records every route it deleted), and nothing of either is left."""
    s, sg2 = two_clusters
    tf = workspace(tmp_path, "together", aws, terraform_bin, provider_dir)
    tf.write(config({"a": args_for(s, s.cluster_name, s.security_group_id, [NODE_CIDR], [POD_CIDR]),
                     "b": args_for(s, CLUSTER_2, sg2, [NODE_2], [POD_2])}))
    ok(tf.apply())
    [att] = attachment_ids(aws, s)
    tag_as_aws_would(aws, att, s.cluster_name if values(tf, "a")["attachment_created"] else CLUSTER_2)
    groups = {s.security_group_id: s.cluster_name, sg2: CLUSTER_2}
    assert to_tgw(aws, s) == {NODE_CIDR, POD_CIDR, NODE_2, POD_2}
    assert world(aws, s, groups) >= {"attachment"}

    destroy(tf)
    assert attachment_ids(aws, s) == [], "the attachment outlived both resources that made it"
    assert world(aws, s, groups) == set()
    assert values(tf, "a") is None and values(tf, "b") is None


# ---------------------------------------------------------------- scenario A: the neighbour made by hand

def test_a_neighbour_made_by_hand_keeps_the_attachment(tmp_path, terraform_bin, provider_dir, aws, seeded,
                                                       figures):
    s = seeded
    tf = workspace(tmp_path, "one", aws, terraform_bin, provider_dir)
    tf.write(config({"a": args_for(s, s.cluster_name, s.security_group_id, [NODE_CIDR], [POD_CIDR])}))
    ok(tf.apply())
    [att] = attachment_ids(aws, s)
    # Outside Terraform: a cluster of the same VPC with a remote network, routed to the gateway.
    add_cluster(aws, s, "by-hand", ["192.168.12.0/22"], [])
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock="192.168.12.0/22",
                         TransitGatewayId=s.transit_gateway_id)
    assert_clean(tf)
    groups = {s.security_group_id: s.cluster_name}
    before = world(aws, s, groups)
    r = destroy(tf)
    record(figures, aws, s, groups, before, r, "a neighbour made by hand (cluster by-hand)",
           f"destroy {s.cluster_name}")
    [w] = [w for w in r.warnings() if "kept" in w["summary"]]
    assert "cluster by-hand still routes through it" in w["summary"], w
    assert attachment_ids(aws, s) == [att], "the hand-made neighbour's route still rides on it"
    assert to_tgw(aws, s) == {"192.168.12.0/22"}, "only our routes went"


# ---------------------------------------------------------------- scenario B: a shared on-premises CIDR

@pytest.mark.parametrize("first_out", ["second", "first"])
def test_a_cidr_two_clusters_route_is_not_taken_over(tmp_path, terraform_bin, provider_dir, aws, seeded,
                                                      first_out, figures):
    s = seeded
    # edge-2's hybrid nodes share edge's on-premises node network, and have their own pods.
    add_cluster(aws, s, CLUSTER_2, [NODE_CIDR], [POD_2])
    sg2 = own_group(aws, s, CLUSTER_2)
    w1 = workspace(tmp_path, "one", aws, terraform_bin, provider_dir)
    w2 = workspace(tmp_path, "two", aws, terraform_bin, provider_dir)
    w1.write(config({"a": args_for(s, s.cluster_name, s.security_group_id, [NODE_CIDR], [POD_CIDR])}))
    w2.write(config({"b": args_for(s, CLUSTER_2, sg2, [NODE_CIDR], [POD_2])}))
    ok(w1.apply())
    [att] = attachment_ids(aws, s)
    tag_as_aws_would(aws, att, s.cluster_name)
    ok(w2.apply())
    b = values(w2, "b")
    shared = {"route_table_id": s.route_table_id, "destination_cidr": NODE_CIDR,
              "target_id": s.transit_gateway_id, "network": "node"}
    assert b["adopted_routes"] == [shared], "found, not taken as its own"
    assert shared in b["routes"]
    assert values(w1, "a")["adopted_routes"] == []
    assert_clean(w1)
    assert_clean(w2)

    groups = {s.security_group_id: s.cluster_name, sg2: CLUSTER_2}
    scenario = f"a shared node CIDR, the {first_out} (the {'adopter' if first_out == 'second' else 'creator'}) " \
               f"leaves first"
    if first_out == "second":
        before = world(aws, s, groups)
        r = destroy(w2)
        record(figures, aws, s, groups, before, r, scenario, f"destroy {CLUSTER_2}")
        assert [w for w in r.warnings() if w["summary"].startswith("Route to")] == [], "an adopted route is not ours"
        assert to_tgw(aws, s) == {NODE_CIDR, POD_CIDR}, "the first's routes stay, the shared one included"
        assert attachment_ids(aws, s) == [att]
        assert_clean(w1)
        # EKS is the source of truth: cluster edge-2 still lists the shared network, so
        # the route it needs stays (named in a warning), and the attachment it rides on.
        before = world(aws, s, groups)
        r = destroy(w1)
        record(figures, aws, s, groups, before, r, scenario, f"destroy {s.cluster_name} (edge-2 still in EKS)")
        [w] = [w for w in r.warnings() if w["summary"].startswith("Route to")]
        assert w["summary"] == f"Route to {NODE_CIDR} kept: cluster {CLUSTER_2} still routes it", w
        assert to_tgw(aws, s) == {NODE_CIDR} and attachment_ids(aws, s) == [att]
    else:
        before = world(aws, s, groups)
        r = destroy(w1)
        record(figures, aws, s, groups, before, r, scenario, f"destroy {s.cluster_name}")
        [w] = [w for w in r.warnings() if w["summary"].startswith("Route to")]
        assert w["summary"] == f"Route to {NODE_CIDR} kept: cluster {CLUSTER_2} still routes it", w
        assert s.route_table_id in diag_text(w)
        assert to_tgw(aws, s) == {NODE_CIDR, POD_2}
        assert attachment_ids(aws, s) == [att]
        assert_clean(w2)


# ---------------------------------------------------------------- a gateway change beside a neighbour

def test_moving_to_another_gateway_keeps_the_old_attachment_a_neighbour_rides_on(
        tmp_path, terraform_bin, provider_dir, aws, two_clusters, figures):
    s, sg2 = two_clusters
    w1 = workspace(tmp_path, "one", aws, terraform_bin, provider_dir)
    w2 = workspace(tmp_path, "two", aws, terraform_bin, provider_dir)
    a_args = args_for(s, s.cluster_name, s.security_group_id, [NODE_CIDR], [POD_CIDR])
    w1.write(config({"a": a_args}))
    w2.write(config({"b": args_for(s, CLUSTER_2, sg2, [NODE_2], [POD_2])}))
    ok(w1.apply())
    [att] = attachment_ids(aws, s)
    ok(w2.apply())
    # edge moves to the second transit gateway: its old attachment carries edge-2's routes.
    w1.write(config({"a": {**a_args, "transit_gateway_id": s.transit_gateway_id_2}}))
    groups = {s.security_group_id: s.cluster_name, sg2: CLUSTER_2}
    before = world(aws, s, groups)
    r = ok(w1.apply())
    record(figures, aws, s, groups, before, r, "a gateway change beside a neighbour",
           f"move {s.cluster_name} to the second transit gateway")
    [w] = [w for w in r.warnings() if "kept" in w["summary"]]
    assert w["summary"] == f"Attachment to {s.transit_gateway_id} kept: cluster {CLUSTER_2} still routes " \
                           f"through it", w
    assert attachment_ids(aws, s) == [att]
    assert to_tgw(aws, s) == {NODE_2, POD_2}
    moved = {c for c, t in routes_of(aws.ec2, s.route_table_id).items() if t == s.transit_gateway_id_2}
    assert moved == {NODE_CIDR, POD_CIDR}
    assert_clean(w1)
    assert_clean(w2)
