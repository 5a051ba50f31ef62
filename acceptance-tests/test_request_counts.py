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

from conftest import hcl, TerraformWorkdir
from fault_proxy import FaultProxy
from moto_server import (aws, moto_server, routes_of, rule_rows, seeded,  # noqa: F401
                         terraform_env_for, tgw_attachments)
from seed import Seed, set_remote_networks

APPLY = ("apply", "-json", "-no-color", "-input=false", "-auto-approve")
DESTROY = ("apply", "-destroy", "-json", "-no-color", "-input=false", "-auto-approve")
PLAN = ("plan", "-json", "-no-color", "-input=false", "-detailed-exitcode")
REFRESH = ("apply", "-refresh-only", "-json", "-no-color", "-input=false", "-auto-approve")


def cidrs(n: int) -> tuple[list[str], list[str]]:
    """N remote CIDRs, 2:1 node:pod (node /24s in 192.168/16, pod /20s in 172.16/12)."""
    pods = n // 3
    nodes = n - pods
    return [f"192.168.{i}.0/24" for i in range(nodes)], [f"172.{16 + i // 16}.{(i % 16) * 16}.0/20" for i in range(pods)]


def config(s: Seed, nodes: list[str], pods: list[str], tables: list[str]) -> str:
    args = {"cluster_name": s.cluster_name, "remote_node_cidrs": nodes, "remote_pod_cidrs": pods,
            "transit_gateway_id": s.transit_gateway_id, "attachment_subnet_ids": [s.subnet_a, s.subnet_b],
            "route_table_ids": tables, "security_group_id": s.security_group_id, "webhook_ports": [9443]}
    body = "\n".join(f"  {k} = {hcl(v)}" for k, v in args.items())
    return f'provider "hybridnet" {{}}\n\nresource "hybridnet_cluster_network" "this" {{\n{body}\n}}\n'


@pytest.fixture
def counted(tmp_path: Path, terraform_bin: str, provider_dir: Path, moto_server) -> tuple:
    p = FaultProxy(moto_server.url).start()
    try:
        work = tmp_path / "config"
        work.mkdir()
        yield p, TerraformWorkdir(work, terraform_bin, provider_dir, extra_env=terraform_env_for(p.url))
    finally:
        p.stop()


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


def test_requests_per_phase(counted, seeded: Seed, aws) -> None:  # noqa: F811
    proxy, tf = counted
    ec2, eks = aws.ec2, aws.eks
    n = int(os.environ.get("HYBRIDNET_COUNT_N", "3"))
    got = run_phases(proxy, tf, seeded, ec2, eks, n)
    report = os.environ.get("HYBRIDNET_COUNT_REPORT")
    if report:
        Path(report).write_text(json.dumps(got, indent=2, sort_keys=True))
    print(json.dumps({k: (total(v), v) for k, v in got.items()}, indent=1, sort_keys=True))
    assert False, "figures"
