"""Reads that lag behind writes (the proxy's lag mode: describes answer as before the
writes of the last LAG seconds on the objects they name), as EC2's eventually consistent
describes do. Create, grow (+CIDRs), shrink and destroy, with a transit gateway and with a
virtual private gateway: each succeeds in one apply, the next plan (after the lag has
passed, as a later run would) is empty, and AWS read back holds what the configuration
says.

The regression this guards: a batched authorize whose answer names only some rules
(moto's names the last), a re-read that predates the write, the rules sent again,
`InvalidPermission.Duplicate`, and "reported as a duplicate 3 times" in the end.
"""

from __future__ import annotations

import time

import pytest

from conftest import hcl
from fault_proxy import FaultProxy
from moto_server import (aws, moto_server, our_rules, proxy, routes_of, rule_rows, seeded, tfp,  # noqa: F401
                         tgw_attachments, vgw_attachment_state)
from seed import NODE_CIDR, POD_CIDR, Seed, set_remote_networks

LAG = 2.0
NODE_2, POD_2 = "192.168.8.0/22", "172.17.0.0/16"


def config(s: Seed, gateway: str, nodes: list[str], pods: list[str]) -> str:
    args = {"cluster_name": s.cluster_name, "remote_node_cidrs": nodes, "remote_pod_cidrs": pods}
    if gateway == "tgw":
        args.update(transit_gateway_id=s.transit_gateway_id, attachment_subnet_ids=[s.subnet_a, s.subnet_b])
    else:
        args["vpn_gateway_id"] = s.vpn_gateway_id
    args.update(route_table_ids=[s.route_table_id, s.main_route_table_id], security_group_id=s.security_group_id,
                webhook_ports=[9443])
    body = "\n".join(f"  {k} = {hcl(v)}" for k, v in args.items())
    return f'provider "hybridnet" {{}}\n\nresource "hybridnet_cluster_network" "this" {{\n{body}\n}}\n'


def expected_rules(nodes: list[str], pods: list[str]) -> set[tuple]:
    remote = nodes + pods
    return ({("ingress", "tcp", 443, 443, c) for c in remote} | {("egress", "tcp", 10250, 10250, c) for c in nodes}
            | {("egress", "tcp", 9443, 9443, c) for c in pods})


def apply_then_check(proxy: FaultProxy, tf, s: Seed, aws, gateway: str, nodes: list[str], pods: list[str]) -> int:
    """Applies, checks, and returns how many describes the proxy answered from before a write."""
    tf.write(config(s, gateway, nodes, pods))
    proxy.configure(lag=LAG)
    r = tf.run("apply", "-json", "-no-color", "-input=false", "-auto-approve", timeout=300)
    assert r.returncode == 0, [d.get("summary", "") + ": " + d.get("detail", "") for d in r.errors()]
    stale = proxy.snapshot()["stale_reads"]
    time.sleep(LAG)  # a later run: the writes have become visible
    p = tf.run("plan", "-json", "-no-color", "-input=false", "-detailed-exitcode", timeout=300)
    assert p.returncode == 0, ("the next plan is not empty", p.stdout[-3000:])
    gw = s.transit_gateway_id if gateway == "tgw" else s.vpn_gateway_id
    for t in (s.route_table_id, s.main_route_table_id):
        routes = {c: g for c, g in routes_of(aws.ec2, t).items() if g == gw}
        assert set(routes) == set(nodes + pods), (t, routes)
    present = {(r["direction"], r["protocol"], r["from_port"], r["to_port"], r["cidr"])
               for r in rule_rows(aws.ec2, s.security_group_id)}
    # Every rule needed is there (EKS's own identical rule counts), and ours are only those.
    assert expected_rules(nodes, pods) <= present
    assert our_rules(aws.ec2, s.security_group_id) <= expected_rules(nodes, pods)
    assert len(our_rules(aws.ec2, s.security_group_id)) >= len(expected_rules(nodes, pods)) - 1
    if gateway == "tgw":
        assert len(tgw_attachments(aws.ec2, s.vpc_id, gw)) == 1
    else:
        assert vgw_attachment_state(aws.ec2, gw, s.vpc_id) == "attached"
    return stale


@pytest.mark.parametrize("gateway", ["tgw", "vgw"])
def test_create_grow_shrink_destroy_with_lagging_reads(aws, seeded: Seed, proxy: FaultProxy, tfp, gateway: str):
    s = seeded
    set_remote_networks(aws.eks, s.cluster_name, [NODE_CIDR, NODE_2], [POD_CIDR, POD_2])
    stale = apply_then_check(proxy, tfp, s, aws, gateway, [NODE_CIDR], [POD_CIDR])
    assert stale > 0, "no describe of the create was answered from before a write: the test shows nothing"
    stale = apply_then_check(proxy, tfp, s, aws, gateway, [NODE_CIDR, NODE_2], [POD_CIDR, POD_2])
    assert stale > 0, "no describe of the growth was answered from before a write"
    apply_then_check(proxy, tfp, s, aws, gateway, [NODE_2], [POD_2])

    proxy.configure(lag=LAG)
    r = tfp.run("apply", "-destroy", "-json", "-no-color", "-input=false", "-auto-approve", timeout=300)
    assert r.returncode == 0, [d.get("summary", "") + ": " + d.get("detail", "") for d in r.errors()]
    gw = s.transit_gateway_id if gateway == "tgw" else s.vpn_gateway_id
    for t in (s.route_table_id, s.main_route_table_id):
        assert not [c for c, g in routes_of(aws.ec2, t).items() if g == gw]
    assert our_rules(aws.ec2, s.security_group_id) == set()
    if gateway == "tgw":
        assert tgw_attachments(aws.ec2, s.vpc_id, gw) == []
    else:
        assert vgw_attachment_state(aws.ec2, gw, s.vpc_id) in (None, "detached")
