"""Reads that lag behind writes (the proxy's lag mode: describes answer as before the
writes of the last LAG seconds on the objects they name), as EC2's eventually consistent
describes do. Create, grow (+CIDRs), shrink and destroy, with a transit gateway and with a
virtual private gateway: each succeeds in one apply, the next plan (after the lag has
passed, as a later run would) is empty, and AWS read back holds what the configuration
says.

The regression this guards: a batched authorize whose answer names only some rules
(moto's names the last), a re-read that predates the write, the rules sent again,
`InvalidPermission.Duplicate`, and "reported as a duplicate 3 times" in the end.

Figures: each step's record (lag, describes the proxy answered from before a write,
applies needed, the next plan's exit code, what AWS read back got wrong) goes into the
`lagging_reads` section of `$HYBRIDNET_RELIABILITY_REPORT` through test_reliability's
`figures` fixture; `scripts/reliability.sh` renders it in docs/reliability.md.
"""

from __future__ import annotations

import time

import pytest

from harness import (FaultProxy, NODE_CIDR, POD_CIDR, Seed, expected_rules, network_args, network_hcl,
                     our_rules, routes_of, rule_rows, set_remote_networks, tgw_attachments,
                     vgw_attachment_state)

LAG = 2.0
NODE_2, POD_2 = "192.168.8.0/22", "172.17.0.0/16"


def config(s: Seed, gateway: str, nodes: list[str], pods: list[str]) -> str:
    return network_hcl(network_args(s, gateway, remote_node_cidrs=nodes, remote_pod_cidrs=pods,
                                    route_table_ids=[s.route_table_id, s.main_route_table_id], tags=None),
                       output=False)


def wrong_in_aws(aws, s: Seed, gateway: str, nodes: list[str], pods: list[str]) -> list[str]:
    """What AWS read back holds that the configuration does not say (empty: AWS is right)."""
    gw = s.transit_gateway_id if gateway == "tgw" else s.vpn_gateway_id
    wrong = []
    for t in (s.route_table_id, s.main_route_table_id):
        routes = {c: g for c, g in routes_of(aws.ec2, t).items() if g == gw}
        if set(routes) != set(nodes + pods):
            wrong.append(f"routes of {t} to {gw}: {sorted(routes)}")
    present = {(r["direction"], r["protocol"], r["from_port"], r["to_port"], r["cidr"])
               for r in rule_rows(aws.ec2, s.security_group_id)}
    expected = expected_rules(nodes, pods)
    ours = our_rules(aws.ec2, s.security_group_id)
    # Every rule needed is there (EKS's own identical rule counts), and ours are only those.
    if not expected <= present:
        wrong.append(f"rules missing: {sorted(expected - present)}")
    if not ours <= expected:
        wrong.append(f"rules not configured: {sorted(ours - expected)}")
    if len(ours) < len(expected) - 1:
        wrong.append(f"only {len(ours)} of {len(expected)} rules are ours")
    if gateway == "tgw":
        n = len(tgw_attachments(aws.ec2, s.vpc_id, gw))
        if n != 1:
            wrong.append(f"{n} attachments")
    else:
        state = vgw_attachment_state(aws.ec2, gw, s.vpc_id)
        if state != "attached":
            wrong.append(f"VGW attachment {state}")
    return wrong


def left_in_aws(aws, s: Seed, gateway: str) -> list[str]:
    """What a destroy left in AWS (empty: nothing)."""
    gw = s.transit_gateway_id if gateway == "tgw" else s.vpn_gateway_id
    left = [f"route {c} in {t}" for t in (s.route_table_id, s.main_route_table_id)
            for c, g in routes_of(aws.ec2, t).items() if g == gw]
    left += [f"rule {r}" for r in sorted(our_rules(aws.ec2, s.security_group_id))]
    if gateway == "tgw":
        left += [f"attachment {a['TransitGatewayAttachmentId']}" for a in tgw_attachments(aws.ec2, s.vpc_id, gw)]
    elif vgw_attachment_state(aws.ec2, gw, s.vpc_id) not in (None, "detached"):
        left.append(f"VGW attachment {vgw_attachment_state(aws.ec2, gw, s.vpc_id)}")
    return left


def apply_then_check(proxy: FaultProxy, tf, s: Seed, aws, gateway: str, nodes: list[str], pods: list[str],
                     figures, step: str) -> int:
    """Applies, checks, records the step's figures, and returns how many describes the proxy
    answered from before a write."""
    tf.write(config(s, gateway, nodes, pods))
    proxy.configure(lag=LAG)
    r = tf.run("apply", "-json", "-no-color", "-input=false", "-auto-approve", timeout=300)
    stale = proxy.snapshot()["stale_reads"]
    errors = [d.get("summary", "") + ": " + d.get("detail", "") for d in r.errors()]
    time.sleep(LAG)  # a later run: the writes have become visible
    p = tf.run("plan", "-json", "-no-color", "-input=false", "-detailed-exitcode", timeout=300)
    wrong = wrong_in_aws(aws, s, gateway, nodes, pods)
    figures.add("lagging_reads", {"gateway": gateway, "step": step, "lag": LAG, "stale_reads": stale,
                                  "applies": 1 if r.returncode == 0 else None, "errors": errors,
                                  "next_plan_exit": p.returncode, "aws_wrong": wrong})
    assert r.returncode == 0, errors
    assert p.returncode == 0, ("the next plan is not empty", p.stdout[-3000:])
    assert wrong == []
    return stale


@pytest.mark.parametrize("gateway", ["tgw", "vgw"])
def test_create_grow_shrink_destroy_with_lagging_reads(aws, seeded: Seed, proxy: FaultProxy, tfp, gateway: str,
                                                      figures):
    s = seeded
    set_remote_networks(aws.eks, s.cluster_name, [NODE_CIDR, NODE_2], [POD_CIDR, POD_2])
    stale = apply_then_check(proxy, tfp, s, aws, gateway, [NODE_CIDR], [POD_CIDR], figures, "create")
    assert stale > 0, "no describe of the create was answered from before a write: the test shows nothing"
    stale = apply_then_check(proxy, tfp, s, aws, gateway, [NODE_CIDR, NODE_2], [POD_CIDR, POD_2], figures, "grow")
    assert stale > 0, "no describe of the growth was answered from before a write"
    apply_then_check(proxy, tfp, s, aws, gateway, [NODE_2], [POD_2], figures, "shrink")

    proxy.configure(lag=LAG)
    r = tfp.run("apply", "-destroy", "-json", "-no-color", "-input=false", "-auto-approve", timeout=300)
    stale = proxy.snapshot()["stale_reads"]
    errors = [d.get("summary", "") + ": " + d.get("detail", "") for d in r.errors()]
    left = left_in_aws(aws, s, gateway)
    state = tfp.run("state", "list", "-no-color")
    figures.add("lagging_reads", {"gateway": gateway, "step": "destroy", "lag": LAG, "stale_reads": stale,
                                  "applies": 1 if r.returncode == 0 else None, "errors": errors,
                                  "state_left": state.stdout.split(), "aws_wrong": left})
    assert r.returncode == 0, errors
    assert left == []
    assert state.stdout.split() == []
