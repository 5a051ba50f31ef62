"""AWS requests per phase of `hybridnet_cluster_network`, counted by the loopback proxy.

Request counts are deterministic (no faults, a fresh moto state per test), so this
file asserts them exactly: a change that adds requests to a phase fails CI, and one
that removes some must lower the figures here on purpose. `scripts/bench.sh` shows the
same counts for more sizes, with times, in docs/performance.md.

The configuration is the benchmark's: routable pods, a transit gateway, two route
tables, N remote CIDRs split 2:1 node:pod, one webhook port.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness import (APPLY, DESTROY, FaultProxy, PLAN, REFRESH, Seed, TerraformWorkdir, network_args,
                     network_hcl, routes_of, set_remote_networks, tgw_attachments)



def cidrs(n: int) -> tuple[list[str], list[str]]:
    """N remote CIDRs, 2:1 node:pod (node /24s in 192.168/16, pod /20s in 172.16/12)."""
    pods = n // 3
    nodes = n - pods
    return [f"192.168.{i}.0/24" for i in range(nodes)], [f"172.{16 + i // 16}.{(i % 16) * 16}.0/20" for i in range(pods)]


def config(s: Seed, nodes: list[str], pods: list[str], tables: list[str]) -> str:
    return network_hcl(network_args(s, "tgw", remote_node_cidrs=nodes, remote_pod_cidrs=pods, route_table_ids=tables,
                                    tags=None), output=False)


def phase(proxy: FaultProxy, tf: TerraformWorkdir, args: tuple, expect_rc: int = 0) -> dict[str, int]:
    proxy.configure(seed=0, rate=0.0)
    r = tf.run(*args, timeout=300)
    assert r.returncode == expect_rc, (args, r.stdout[-3000:], r.stderr[-3000:])
    assert proxy.wait_idle()
    return proxy.snapshot()["by_operation"]


def total(ops: dict[str, int]) -> int:
    return sum(ops.values())


def run_phases(proxy: FaultProxy, tf: TerraformWorkdir, s: Seed, ec2, eks, n: int) -> dict[str, dict[str, int]]:
    nodes, pods = cidrs(n)
    extra_node = "192.168.200.0/24"
    set_remote_networks(eks, s.cluster_name, nodes + [extra_node], pods)
    tables = [s.route_table_id, s.main_route_table_id]
    tf.write(config(s, nodes, pods, tables))
    out = {"create": phase(proxy, tf, APPLY)}
    # What the create made, read back from moto.
    for t in tables:
        routes = routes_of(ec2, t)
        assert all(routes.get(c) == s.transit_gateway_id for c in nodes + pods), routes
    assert len(tgw_attachments(ec2, s.vpc_id, s.transit_gateway_id)) == 1
    out["plan"] = phase(proxy, tf, PLAN)
    out["refresh"] = phase(proxy, tf, REFRESH)
    tf.write(config(s, nodes + [extra_node], pods, tables))
    out["update"] = phase(proxy, tf, APPLY)
    assert all(routes_of(ec2, t).get(extra_node) == s.transit_gateway_id for t in tables)
    out["destroy"] = phase(proxy, tf, DESTROY)
    assert all(c not in routes_of(ec2, t) for t in tables for c in nodes + pods + [extra_node])
    return out


#: Requests per phase at N = 3 (2 node CIDRs, 1 pod CIDR) in 2 route tables. Terraform 1.0
#: plans twice on apply (once in each provider process), so create and update hold two
#: plans. moto answers a batched authorize with only its last rule (AWS with every rule),
#: so each batch of more than one rule costs moto one DescribeSecurityGroupRules more.
#: Destroy asks EKS who else still needs what it is about to delete (ownership that
#: survives neighbours): one ListClusters; with no other cluster in the account that is
#: all (each other cluster would add a DescribeCluster, one DescribeSubnets for those EKS
#: reports no VPC of, and, when one is in the VPC, one DescribeRouteTables of the VPC).
EXPECTED_N3 = {
    "create": {
        "eks:DescribeCluster": 2, "ec2:DescribeSubnets": 2, "ec2:DescribeVpcs": 2, "ec2:DescribeVpcAttribute": 4,
        "ec2:DescribeRouteTables": 2, "ec2:DescribeTransitGateways": 2, "ec2:DescribeSecurityGroupRules": 4,
        "ec2:CreateTransitGatewayVpcAttachment": 1, "ec2:CreateRoute": 6,
        "ec2:AuthorizeSecurityGroupIngress": 1, "ec2:AuthorizeSecurityGroupEgress": 1,
        "ec2:DescribeNetworkInterfaces": 1,
    },
    "plan": {
        "ec2:DescribeRouteTables": 1, "ec2:DescribeTransitGatewayVpcAttachments": 1,
        "ec2:DescribeSecurityGroupRules": 1, "ec2:DescribeNetworkInterfaces": 1,
        "eks:DescribeCluster": 1, "ec2:DescribeSubnets": 1, "ec2:DescribeVpcs": 1, "ec2:DescribeVpcAttribute": 2,
        "ec2:DescribeTransitGateways": 1,
    },
    "refresh": {
        "ec2:DescribeRouteTables": 1, "ec2:DescribeTransitGatewayVpcAttachments": 1,
        "ec2:DescribeSecurityGroupRules": 1, "ec2:DescribeNetworkInterfaces": 1,
    },
    "update": {
        "ec2:DescribeRouteTables": 2, "ec2:DescribeTransitGatewayVpcAttachments": 2,
        "ec2:DescribeSecurityGroupRules": 2, "ec2:DescribeNetworkInterfaces": 1,
        "eks:DescribeCluster": 2, "ec2:DescribeSubnets": 2, "ec2:DescribeVpcs": 2, "ec2:DescribeVpcAttribute": 4,
        "ec2:DescribeTransitGateways": 2, "ec2:CreateRoute": 2,
        "ec2:AuthorizeSecurityGroupIngress": 1, "ec2:AuthorizeSecurityGroupEgress": 1,
    },
    "destroy": {
        "ec2:DescribeRouteTables": 2, "ec2:DescribeTransitGatewayVpcAttachments": 2,
        "ec2:DescribeSecurityGroupRules": 2, "ec2:DescribeNetworkInterfaces": 1,
        "eks:DescribeCluster": 1, "ec2:DescribeSubnets": 1, "ec2:DescribeVpcs": 1, "ec2:DescribeVpcAttribute": 2,
        "ec2:DescribeTransitGateways": 1, "ec2:RevokeSecurityGroupIngress": 1, "ec2:RevokeSecurityGroupEgress": 1,
        "ec2:DeleteRoute": 8, "ec2:DeleteTransitGatewayVpcAttachment": 1, "eks:ListClusters": 1,
    },
}

ROUTE_CALLS = ("ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute")


def besides_routes(ops: dict[str, int]) -> int:
    return sum(n for op, n in ops.items() if op not in ROUTE_CALLS)


@pytest.mark.parametrize("n", [3, 12])
def test_requests_per_phase(tfp, proxy, seeded: Seed, aws, n: int) -> None:
    got = run_phases(proxy, tfp, seeded, aws.ec2, aws.eks, n)
    report = os.environ.get("HYBRIDNET_COUNT_REPORT")
    if report:
        Path(report).write_text(json.dumps(got, indent=2, sort_keys=True))
    # The targets: one authorize per direction whatever N; a plan of an
    # unchanged network at most 10 requests; destroy = routes + at most 16, plus the one
    # neighbour read (eks:ListClusters, see above); create = routes + at most 20 against
    # AWS (22 here: moto's two extra reads, see above).
    for phase_name, ops in got.items():
        assert ops.get("ec2:AuthorizeSecurityGroupIngress", 0) <= 1, (phase_name, ops)
        assert ops.get("ec2:AuthorizeSecurityGroupEgress", 0) <= 1, (phase_name, ops)
    assert total(got["plan"]) <= 10, got["plan"]
    assert total(got["refresh"]) == 4, got["refresh"]
    assert besides_routes(got["destroy"]) <= 16 + 1, got["destroy"]
    assert besides_routes(got["create"]) <= 22, got["create"]
    nodes, pods = cidrs(n)
    assert got["create"]["ec2:CreateRoute"] == 2 * (len(nodes) + len(pods))
    # Route calls aside, every phase costs the same at any N.
    for phase_name, ops in EXPECTED_N3.items():
        expected = {op: c for op, c in ops.items() if op not in ROUTE_CALLS}
        actual = {op: c for op, c in got[phase_name].items() if op not in ROUTE_CALLS}
        assert actual == expected, f"{phase_name} at N={n}: {actual} (expected {expected})"
    if n == 3:
        assert got == EXPECTED_N3
