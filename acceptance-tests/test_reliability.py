"""Reliability of `hybridnet_cluster_network` under AWS faults, provider crashes and
cancellation: any interrupted run can simply be re-run; it converges, creates no
duplicates and orphans nothing.

The provider talks to moto through `fault_proxy.FaultProxy` (127.0.0.1), which injects
seeded faults (throttling, 500s, connection resets before and after moto saw the request,
latency) at rate `HYBRIDNET_FAULT_RATE` (default 0.2). Seeding and every check talk to
moto directly.

- Fault scenarios (create; update: add a node CIDR and remove a pod CIDR; destroy), each
  over `HYBRIDNET_FAULT_RUNS` seeded runs. A run converges when at most MAX_APPLIES
  `terraform apply` (or destroy) under faults end in success. Then, faults off: the next
  plan is empty (or destroy left nothing) and moto holds exactly what the state records.
- Crash: SIGKILL the provider at the k-th AWS request of an apply; the next apply
  converges to the same end state, adopting what the killed run created.
- Cancellation: SIGINT (Ctrl-C) to Terraform during a slow apply; it exits promptly and
  the state records what exists.
- Unrecoverable: endpoint down, always throttled, access denied, a gateway that does not
  exist, connection reset on every CreateRoute: one clear error, in bounded time.

Figures: every scenario's summary is merged into the JSON file
`$HYBRIDNET_RELIABILITY_REPORT` (if set); `scripts/reliability.sh` turns it into
docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from harness import (APPLY, AwsSession, DESTROY, FaultProxy, FIRST_SEED, MAX_APPLIES, NODE_2, NODE_CIDR,
                     OWNER_TAG, PLAN, POD_2, POD_CIDR, RATE, Result, Run, RUNS, Seed, TerraformWorkdir,
                     closed_port, expected_rules, finish, is_mutation, kill_provider_of, network_args,
                     network_hcl, reap, routes_of, rule_key, rule_rows, set_remote_networks, terraform_env_for,
                     tgw_attachments, vgw_attachment_state)

# ---------------------------------------------------------------- parameters

# RUNS (seeded runs per fault scenario; default 10 keeps this file under ~8 minutes on 2
# cores, `scripts/reliability.sh` runs 20), RATE, FIRST_SEED, REPORT, MAX_APPLIES and
# COMMAND_TIMEOUT are harness.py's (the `figures` fixture reports them).
#: an unrecoverable run must fail within this
FAIL_BOUND = 90
#: Terraform must exit within this after Ctrl-C
CANCEL_BOUND = 20

ALL_CIDRS = (NODE_CIDR, NODE_2, POD_CIDR, POD_2)
SEEDS = list(range(FIRST_SEED, FIRST_SEED + RUNS))


def gateway_for(seed: int) -> str:
    """Runs alternate between a transit gateway and a virtual private gateway."""
    return "tgw" if seed % 2 else "vgw"


# ---------------------------------------------------------------- configuration

def config(s: Seed, gateway: str, nodes=(NODE_CIDR,), pods=(POD_CIDR,), gateway_id: str | None = None,
           provider: str = "", meta: str = "") -> str:
    args = network_args(s, gateway, remote_node_cidrs=list(nodes), remote_pod_cidrs=list(pods))
    if gateway_id:
        args["transit_gateway_id" if gateway == "tgw" else "vpn_gateway_id"] = gateway_id
    # No outputs: an output-only change would make `plan -detailed-exitcode` exit 2.
    return network_hcl(args, output=False, provider="\n" + provider, meta=meta)


# ---------------------------------------------------------------- running Terraform

def failure_text(r: Run) -> str:
    errs = "\n".join(f"  {e.get('summary')}: {e.get('detail', '')[:400]}" for e in r.result.errors())
    return (f"terraform {' '.join(r.result.args[:2])} exit {r.result.returncode} after {r.seconds:.1f}s"
            f"{' (TIMED OUT)' if r.timed_out else ''}\n{errs}\n{r.result.stderr[-1500:]}")


def state_doc(tf: TerraformWorkdir) -> dict | None:
    path = tf.dir / "terraform.tfstate"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def state_of(tf: TerraformWorkdir) -> tuple[dict | None, str | None]:
    """(attributes, status) of the resource in the local state file; (None, None) when absent."""
    doc = state_doc(tf)
    for res in (doc or {}).get("resources", []):
        if res.get("type") == "hybridnet_cluster_network" and res.get("name") == "this":
            for inst in res.get("instances", []):
                return inst.get("attributes"), inst.get("status")
    return None, None


def planned_changes(r: Result) -> str:
    return "\n".join(json.dumps(m) for m in r.json_lines() if m.get("type") in ("planned_change", "resource_drift",
                                                                                 "diagnostic"))


# ---------------------------------------------------------------- reading moto back

@dataclass
class Audit:
    orphans: list       # ours in AWS, not in state
    duplicates: list    # more than one object where there must be one
    missing: list       # in state, not in AWS

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.duplicates or self.missing)

    def as_dict(self) -> dict:
        return {"orphans": self.orphans, "duplicates": self.duplicates, "missing": self.missing}


def audit(aws: AwsSession, s: Seed, gateway: str, st: dict | None) -> Audit:
    """Compares moto with the resource's state: every object of ours (routes to the gateway
    for our CIDRs, rules tagged `hybridnet:cluster-network`, attachments of the VPC to the
    gateway) must be in the state, every object in the state must exist, and nothing may
    exist twice. `st` None: nothing of ours may exist."""
    ec2 = aws.ec2
    gw = s.gateway(gateway)
    orphans, duplicates, missing = [], [], []

    # Routes, in every route table of the VPC.
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [s.vpc_id]}])["RouteTables"]
    in_aws = {}
    for t in tables:
        for dest, target in routes_of(ec2, t["RouteTableId"]).items():
            in_aws[(t["RouteTableId"], dest)] = target
    ours_in_aws = {k for k, t in in_aws.items() if k[1] in ALL_CIDRS and t == gw}
    in_state = {(r["route_table_id"], r["destination_cidr"]): r["target_id"] for r in (st or {}).get("routes") or []}
    orphans += [f"route {rt} {c} -> {gw}" for rt, c in sorted(ours_in_aws - set(in_state))]
    missing += [f"route {rt} {c} -> {t}" for (rt, c), t in sorted(in_state.items()) if in_aws.get((rt, c)) != t]

    # Security group rules.
    rows = rule_rows(ec2, s.security_group_id)
    by_id = {r["id"]: r for r in rows}
    tagged = {r["id"] for r in rows if r["tags"].get(OWNER_TAG) == s.cluster_name}
    state_ids = list((st or {}).get("security_group_rule_ids") or [])
    orphans += [f"rule {i} {rule_key(by_id[i])}" for i in sorted(tagged - set(state_ids))]
    missing += [f"rule {i}" for i in state_ids if i not in by_id]
    if len(state_ids) != len(set(state_ids)):
        duplicates += [f"rule id {i} recorded {n} times" for i, n in Counter(state_ids).items() if n > 1]
    keys = Counter(rule_key(r) for r in rows if r["cidr"] in ALL_CIDRS)
    duplicates += [f"{n} rules {k}" for k, n in sorted(keys.items()) if n > 1]
    state_keys = Counter(rule_key(by_id[i]) for i in state_ids if i in by_id)
    duplicates += [f"state holds {n} rules {k}" for k, n in sorted(state_keys.items()) if n > 1]

    # The attachment.
    att = (st or {}).get("attachment_id")
    if gateway == "tgw":
        live = [a["TransitGatewayAttachmentId"] for a in tgw_attachments(ec2, s.vpc_id, gw)]
        if len(live) > 1:
            duplicates.append(f"{len(live)} attachments of {s.vpc_id} to {gw}: {live}")
        orphans += [f"attachment {a}" for a in live if a != att]
        if att and att not in live:
            missing.append(f"attachment {att}")
    else:
        attached = vgw_attachment_state(ec2, gw, s.vpc_id) in ("attached", "attaching")
        if attached and att != f"{gw}:{s.vpc_id}":
            orphans.append(f"attachment {gw}:{s.vpc_id}")
        if att and not attached:
            missing.append(f"attachment {att}")
    return Audit(orphans, duplicates, missing)


def assert_end_state(aws: AwsSession, s: Seed, gateway: str, st: dict, nodes, pods) -> None:
    """The converged state is the configured one, and moto agrees."""
    gw = s.gateway(gateway)
    want_routes = {(s.route_table_id, c, gw) for c in list(nodes) + list(pods)}
    got_routes = {(r["route_table_id"], r["destination_cidr"], r["target_id"]) for r in st["routes"]}
    assert got_routes == want_routes, f"routes in state {got_routes}, want {want_routes}"
    to_gw = {d for d, t in routes_of(aws.ec2, s.route_table_id).items() if t == gw}
    assert to_gw == set(nodes) | set(pods), f"routes to {gw} in AWS: {to_gw}"
    rows = {r["id"]: r for r in rule_rows(aws.ec2, s.security_group_id)}
    keys = {rule_key(rows[i]) for i in st["security_group_rule_ids"] if i in rows}
    assert keys == expected_rules(nodes, pods), f"rules in state {keys}"
    assert len(st["security_group_rule_ids"]) == len(expected_rules(nodes, pods))
    if gateway == "tgw":
        live = tgw_attachments(aws.ec2, s.vpc_id, gw)
        assert [a["TransitGatewayAttachmentId"] for a in live] == [st["attachment_id"]], live
        assert live[0]["State"] == "available"
    else:
        assert st["attachment_id"] == f"{gw}:{s.vpc_id}"
        assert vgw_attachment_state(aws.ec2, gw, s.vpc_id) == "attached"
    # Foreign objects are intact.
    assert routes_of(aws.ec2, s.route_table_id)["0.0.0.0/0"] == s.internet_gateway_id
    assert s.foreign_rule_id in rows and rows[s.foreign_rule_id]["description"] == "ssh"
    assert s.eks_rule_id in rows


def assert_nothing_left(aws: AwsSession, s: Seed, gateway: str) -> None:
    gw = s.gateway(gateway)
    assert not {d for d, t in routes_of(aws.ec2, s.route_table_id).items() if t == gw}
    assert not [r for r in rule_rows(aws.ec2, s.security_group_id) if r["tags"].get(OWNER_TAG)]
    if gateway == "tgw":
        assert tgw_attachments(aws.ec2, s.vpc_id) == []
    else:
        assert vgw_attachment_state(aws.ec2, gw, s.vpc_id) in ("detached", None)
    ids = {r["id"] for r in rule_rows(aws.ec2, s.security_group_id)}
    assert {s.eks_rule_id, s.foreign_rule_id} <= ids, "foreign rules remain"


# ---------------------------------------------------------------- figures

def setup_apply(tf: TerraformWorkdir, proxy: FaultProxy) -> None:
    """An apply without faults (the starting point of a scenario)."""
    proxy.configure(seed=0, rate=0.0)
    r = tf.timed(*APPLY)
    assert r.result.ok, failure_text(r)


def prepare(scenario: str, tf: TerraformWorkdir, aws: AwsSession, s: Seed, gateway: str, proxy: FaultProxy):
    """Writes the configuration of `scenario` (create, update or destroy), applying first
    what an update or destroy starts from. Returns the (nodes, pods) the run ends with;
    an update adds a node CIDR and removes a pod CIDR."""
    if scenario == "update":
        set_remote_networks(aws.eks, s.cluster_name, [NODE_CIDR, NODE_2], [POD_CIDR, POD_2])
        tf.write(config(s, gateway, nodes=[NODE_CIDR], pods=[POD_CIDR, POD_2]))
        setup_apply(tf, proxy)
        tf.write(config(s, gateway, nodes=[NODE_CIDR, NODE_2], pods=[POD_CIDR]))
        return [NODE_CIDR, NODE_2], [POD_CIDR]
    tf.write(config(s, gateway))
    if scenario == "destroy":
        setup_apply(tf, proxy)
    return [NODE_CIDR], [POD_CIDR]


def converge(tf: TerraformWorkdir, args: tuple, limit: int = MAX_APPLIES) -> tuple[int, bool, list[str], list[Run]]:
    """Repeats `terraform <args>` until it succeeds, at most `limit` times.
    Returns (attempts, converged, error summaries of the failed attempts, runs)."""
    errors, runs = [], []
    for attempt in range(1, limit + 1):
        r = tf.timed(*args)
        runs.append(r)
        if r.timed_out:
            errors.append(f"timed out after {r.seconds:.0f}s")
            return attempt, False, errors, runs
        if r.result.ok:
            return attempt, True, errors, runs
        errs = r.result.errors()
        errors += [normalize(e.get("summary", "")) for e in errs] or [f"exit {r.result.returncode}"]
    return limit, False, errors, runs


def normalize(text: str) -> str:
    """Summaries without the IDs that differ from run to run."""
    return re.sub(r"\b(vpc|subnet|rtb|tgw|tgw-attach|vgw|sg|sgr)-[0-9a-f]+\b", r"\1-…", text)


# ---------------------------------------------------------------- 0. the proxy itself

def _boto(service: str, url: str):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                                      read_timeout=15))


def test_fault_proxy_is_loopback_seeded_and_faithful(aws, proxy):
    """The harness under the figures: loopback only, every kind of fault looks like AWS's,
    reset-after reaches moto, and one seed gives the same faults per operation."""
    from botocore.exceptions import ClientError, ConnectionClosedError
    assert proxy.url.startswith("http://127.0.0.1:")
    with pytest.raises(ValueError):
        FaultProxy("http://192.0.2.1:80")
    ec2, eks = _boto("ec2", proxy.url), _boto("eks", proxy.url)

    proxy.configure(seed=0, rate=0.0)
    assert ec2.describe_vpcs()["Vpcs"] and eks.list_clusters()["clusters"] == []
    expected = {"throttle": ("RequestLimitExceeded", 503, "ThrottlingException", 429),
                "internal": ("InternalError", 500, "ServerException", 500),
                "denied": ("UnauthorizedOperation", 403, "AccessDeniedException", 403)}
    for kind, (ec2_code, ec2_status, eks_code, eks_status) in expected.items():
        proxy.configure(seed=0, rate=1.0, kinds=[kind])
        with pytest.raises(ClientError) as e:
            ec2.describe_vpcs()
        assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
            (ec2_code, ec2_status)
        with pytest.raises(ClientError) as e:
            eks.list_clusters()
        assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
            (eks_code, eks_status)
        assert proxy.snapshot()["faults"] == {kind: 2}

    # Reset before: moto never sees the call. Reset after: it does; the answer is lost.
    for kind, lands in (("reset_before", False), ("reset_after", True)):
        proxy.configure(seed=0, rate=1.0, kinds=[kind])
        name = f"hybridnet-{kind}"
        with pytest.raises(ConnectionClosedError):
            ec2.create_security_group(GroupName=name, Description="probe")
        found = aws.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
        assert bool(found) is lands, (kind, found)
        assert proxy.snapshot()["by_operation"] == {"ec2:CreateSecurityGroup": 1}

    # Seeded: the same seed gives the same faults for each operation's sequence of calls.
    def pattern(seed: int) -> list:
        proxy.configure(seed=seed, rate=0.5, kinds=["throttle", "internal"])
        out = []
        for _ in range(12):
            for call in (ec2.describe_vpcs, eks.list_clusters):
                try:
                    call()
                    out.append("ok")
                except ClientError as e:
                    out.append(e.response["Error"]["Code"])
        return out
    first = pattern(7)
    assert pattern(7) == first
    assert pattern(8) != first
    assert 0 < sum(x != "ok" for x in first) < len(first)

    # Latency holds the request; the hook fires once on the k-th request.
    proxy.configure(seed=0, rate=0.0, hold_every_request=0.4)
    fired = []
    proxy.on_request(2, lambda n, op: fired.append((n, op)), when="before")
    t = time.monotonic()
    ec2.describe_vpcs()
    assert time.monotonic() - t >= 0.4
    with pytest.raises(ConnectionClosedError):
        eks.list_clusters()
    ec2.describe_vpcs()
    assert fired == [(2, "eks:ListClusters")]
    proxy.configure(seed=0, rate=0.0)


def test_audit_detects_orphans_duplicates_and_missing(aws, seeded):
    """The check behind every figure can fail: objects of ours that the state lacks, state
    entries AWS lacks, and a rule recorded twice are all reported."""
    s, ec2 = seeded, aws.ec2
    gw = s.transit_gateway_id
    tags = [{"Key": OWNER_TAG, "Value": s.cluster_name}]
    att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=gw, VpcId=s.vpc_id, SubnetIds=[s.subnet_a, s.subnet_b],
        TagSpecifications=[{"ResourceType": "transit-gateway-attachment", "Tags": tags}],
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=NODE_CIDR, TransitGatewayId=gw)
    ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, TransitGatewayId=gw)
    rule = ec2.authorize_security_group_egress(GroupId=s.security_group_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 10250, "ToPort": 10250,
        "IpRanges": [{"CidrIp": NODE_CIDR, "Description": "hybridnet: kubelet"}]}],
        TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": tags}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    full = {"attachment_id": att, "security_group_rule_ids": [rule, s.eks_rule_id],
            "routes": [{"route_table_id": s.route_table_id, "destination_cidr": c, "target_id": gw}
                       for c in (NODE_CIDR, POD_CIDR)]}
    assert audit(aws, s, "tgw", full).clean

    partial = dict(full, routes=full["routes"][:1], security_group_rule_ids=[s.eks_rule_id], attachment_id=None)
    a = audit(aws, s, "tgw", partial)
    assert len(a.orphans) == 3 and not a.missing and not a.duplicates, a.as_dict()
    assert any(POD_CIDR in o for o in a.orphans) and any(rule in o for o in a.orphans) \
        and any(att in o for o in a.orphans)

    ghost = dict(full, security_group_rule_ids=[rule, rule, "sgr-0000000000000dead"],
                 routes=full["routes"] + [{"route_table_id": s.route_table_id, "destination_cidr": NODE_2,
                                           "target_id": gw}])
    a = audit(aws, s, "tgw", ghost)
    assert len(a.missing) == 2 and a.duplicates and not a.orphans, a.as_dict()
    assert len(audit(aws, s, "tgw", None).orphans) == 4


# ---------------------------------------------------------------- 1. fault scenarios

def _faults_on_changes(stats: dict) -> dict:
    """Faults injected into mutating calls (Create*, Delete*, Authorize*, ...), by kind."""
    out: Counter = Counter()
    for key, n in stats["faults_by_operation"].items():
        op, kind = key.rsplit(" ", 1)
        if is_mutation(op):
            out[kind] += n
    return dict(sorted(out.items()))


SCENARIOS = ["create", "update", "destroy"]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_converges_under_faults(tfp, aws, seeded, proxy, figures, scenario, seed):
    s = seeded
    gateway = gateway_for(seed)
    nodes, pods = prepare(scenario, tfp, aws, s, gateway, proxy)

    proxy.configure(seed=seed, rate=RATE)
    started = time.monotonic()
    attempts, converged, errors, runs = converge(tfp, DESTROY if scenario == "destroy" else APPLY)
    seconds = time.monotonic() - started
    proxy.stop_injecting()
    proxy.wait_idle()
    stats = proxy.snapshot()

    st, status = state_of(tfp)
    a = audit(aws, s, gateway, st)
    plan_exit = None
    if scenario != "destroy":
        p = tfp.timed(*PLAN)
        plan_exit = p.result.returncode
    record = {
        "seed": seed, "gateway": gateway, "applies": attempts, "converged": converged,
        "seconds": round(seconds, 1), "requests": stats["requests"], "faults": stats["faults"],
        "faults_on_changes": _faults_on_changes(stats), "faults_by_operation": stats["faults_by_operation"],
        "orphans": len(a.orphans), "duplicates": len(a.duplicates), "missing": len(a.missing),
        "plan_exit": plan_exit, "errors": errors, "status": status,
        "clean": a.clean and (plan_exit == 0 if scenario != "destroy" else st is None),
    }
    if not record["clean"]:
        record["audit"] = a.as_dict()
    figures.add_run(scenario, record)

    assert converged, (f"seed {seed} ({gateway}): not converged after {attempts} attempts: {errors}\n"
                       f"{failure_text(runs[-1])}\nfaults: {stats['faults_by_operation']}")
    assert a.clean, f"seed {seed} ({gateway}): AWS and state disagree: {a.as_dict()}\nfaults: {stats['faults_by_operation']}"
    if scenario == "destroy":
        assert st is None, f"seed {seed}: the resource is still in state after destroy: {status}"
        assert_nothing_left(aws, s, gateway)
    else:
        assert plan_exit == 0, f"seed {seed} ({gateway}): the next plan is not empty (exit {plan_exit}):\n" \
                               f"{planned_changes(p.result)}\n{p.result.stderr[-2000:]}"
        assert status != "tainted"
        assert_end_state(aws, s, gateway, st, nodes, pods)


# ---------------------------------------------------------------- 2. crash (SIGKILL of the provider)

#: Where the provider is killed: the k-th AWS request of the run, or right after the nth
#: call of an operation reached moto (its answer is lost with the process).
CRASH_CASES = [
    ("create", 2, None, 1),                                        # planning
    ("create", 15, None, 1),                                       # re-planning at apply
    ("create", None, "ec2:CreateTransitGatewayVpcAttachment", 1),  # attachment made, not recorded
    ("create", None, "ec2:CreateRoute", 1),
    ("create", None, "ec2:CreateRoute", 2),
    ("create", None, "ec2:AuthorizeSecurityGroupIngress", 1),
    ("create", None, "ec2:AuthorizeSecurityGroupEgress", 1),     # every outbound rule, in one request
    ("create", None, "ec2:DescribeNetworkInterfaces", 1),          # everything made, state not returned
    ("update", 3, None, 1),                                        # refresh
    ("update", None, "ec2:CreateRoute", 1),
    ("update", None, "ec2:DeleteRoute", 1),
    ("update", None, "ec2:AuthorizeSecurityGroupEgress", 1),
    ("update", None, "ec2:RevokeSecurityGroupIngress", 1),
    ("destroy", 2, None, 1),
    ("destroy", None, "ec2:RevokeSecurityGroupIngress", 1),
    ("destroy", None, "ec2:DeleteRoute", 1),
    ("destroy", None, "ec2:DeleteTransitGatewayVpcAttachment", 1),
]


def _crash_id(case) -> str:
    scenario, k, op, nth = case
    return f"{scenario}-k{k}" if k else f"{scenario}-{op.split(':')[1]}{nth}"


@pytest.mark.parametrize("case", CRASH_CASES, ids=[_crash_id(c) for c in CRASH_CASES])
def test_provider_killed_mid_apply_then_apply_converges(tfp, aws, seeded, proxy, figures, case):
    scenario, k, operation, nth = case
    s = seeded
    gateway = "tgw"
    nodes, pods = prepare(scenario, tfp, aws, s, gateway, proxy)
    args = DESTROY if scenario == "destroy" else APPLY

    proxy.configure(seed=0, rate=0.0)
    started = time.monotonic()
    killed: list[int] = []
    terraform: dict = {}
    proxy.on_request(k, lambda n, op: killed.extend(kill_provider_of(terraform["pid"])), when="after",
                     operation=operation, nth=nth)
    p = tfp.start(*args)
    terraform["pid"] = p.pid
    first = finish(p, args, started)
    proxy.wait_idle()
    fired = list(proxy.hook_fired)
    total = proxy.snapshot()["requests"]
    k_fired, killed_op = fired[0] if fired else (None, None)
    if not (fired and killed and not first.result.ok and not first.timed_out):
        figures.add("crash", {"scenario": scenario, "k": k_fired, "killed_after": killed_op, "nth": nth,
                              "killed": killed, "requests_of_killed_run": total, "converged": False,
                              "setup_problem": failure_text(first)[:1500]})
    assert fired, f"the run made {total} AWS requests and never reached the crash point {case}"
    assert killed, f"no provider process found under terraform {p.pid} at {case}: {failure_text(first)}"
    assert not first.result.ok, "an apply whose provider was killed must fail"
    assert not first.timed_out, failure_text(first)

    # What the killed run left behind (read from moto directly).
    st0, _ = state_of(tfp)
    left = tgw_attachments(aws.ec2, s.vpc_id, s.transit_gateway_id)
    left_ids = [x["TransitGatewayAttachmentId"] for x in left]

    proxy.configure(seed=k, rate=0.0)
    attempts, converged, errors, runs = converge(tfp, args, limit=2)
    st, status = state_of(tfp)
    a = audit(aws, s, gateway, st)
    record = {"k": k_fired, "scenario": scenario, "killed_after": killed_op, "nth": nth if operation else None,
              "requests_of_killed_run": total, "applies_after": attempts, "converged": converged,
              "first_apply_succeeded": attempts == 1 and converged,
              "orphans": len(a.orphans), "duplicates": len(a.duplicates), "missing": len(a.missing),
              "adopted_attachment": bool(left_ids) and st is not None and st.get("attachment_id") in left_ids,
              "left_by_killed_run": {"attachments": len(left_ids),
                                     "state_recorded": st0 is not None}}
    figures.add("crash", record)

    assert converged and attempts == 1, f"the apply after the crash at request {k_fired} ({killed_op}) failed: " \
                                        f"{errors}\n{failure_text(runs[-1])}"
    assert a.clean, f"crash at request {k_fired} ({killed_op}): {a.as_dict()}"
    if scenario == "destroy":
        assert st is None
        assert_nothing_left(aws, s, gateway)
        return
    if left_ids:
        assert st["attachment_id"] == left_ids[0], "the attachment the killed run created is adopted"
    pl = tfp.timed(*PLAN)
    assert pl.result.returncode == 0, planned_changes(pl.result)
    assert_end_state(aws, s, gateway, st, nodes, pods)


# ---------------------------------------------------------------- 3. cancellation (Ctrl-C)

def _from_first_mutation():
    """hold_if: every request from the first change on (planning runs at full speed)."""
    seen = []

    def hold_if(op: str, nth: int) -> bool:
        if not seen and is_mutation(op):
            seen.append(op)
        return bool(seen)
    return hold_if


#: (id, the request being held when Ctrl-C comes, which requests are slow)
CANCEL_CASES = [
    # Every request from the first change on takes 1.5 s; Ctrl-C while that request waits.
    ("attachment", ("ec2:CreateTransitGatewayVpcAttachment", 1), "all"),
    ("routes", ("ec2:CreateRoute", 1), "all"),
    ("rules", ("ec2:AuthorizeSecurityGroupEgress", 1), "all"),
    # Only one call of a concurrent batch is slow: the others completed, and must be in
    # the state the cancelled apply returns (rules: inbound and outbound are one request
    # each, sent together; the outbound one is held).
    ("routes-half-done", ("ec2:CreateRoute", 2), "only"),
    ("rules-half-done", ("ec2:AuthorizeSecurityGroupEgress", 1), "only"),
]


@pytest.mark.parametrize("case", CANCEL_CASES, ids=[c[0] for c in CANCEL_CASES])
def test_ctrl_c_during_slow_apply_returns_promptly_with_state(tfp, aws, seeded, proxy, figures, case):
    name, (operation, nth), slow = case
    s = seeded
    gateway = "tgw"
    tfp.write(config(s, gateway))
    hold = 1.5 if slow == "all" else 30.0
    hold_if = _from_first_mutation() if slow == "all" else (lambda op, n: op == operation and n == nth)
    proxy.configure(seed=0, rate=0.0, hold_every_request=hold, hold_if=hold_if)
    started = time.monotonic()
    p = tfp.start(*APPLY)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and p.poll() is None:
            if proxy.snapshot()["by_operation"].get(operation, 0) >= nth:
                break
            time.sleep(0.05)
        assert p.poll() is None, "the apply ended before the point of cancellation"
        assert proxy.snapshot()["by_operation"].get(operation, 0) >= nth, f"no {operation} #{nth} within 150s"
    except BaseException:
        reap(p)
        raise
    time.sleep(0.5)  # the request is being held; the others of its batch are done
    signalled = time.monotonic()
    os.killpg(p.pid, signal.SIGINT)   # Ctrl-C in a terminal: the whole process group
    run = finish(p, APPLY, started, timeout=CANCEL_BOUND + 60)
    exit_after = time.monotonic() - signalled
    proxy.stop_injecting()
    proxy.wait_idle()  # requests still held are dropped (their client is gone), or land now
    stats = proxy.snapshot()

    st, status = state_of(tfp)
    a = audit(aws, s, gateway, st)
    record = {"case": name, "cancelled_at": f"{operation} #{nth}", "slow": "every request from the first change"
              if slow == "all" else f"only {operation} #{nth}", "hold_seconds": hold,
              "seconds_to_signal": round(signalled - started, 1),
              "exit_seconds_after_signal": round(exit_after, 2), "exit_code": run.result.returncode,
              "requests": stats["requests"], "dropped_in_flight": stats["client_gone"],
              "state_recorded": st is not None, "state_status": status,
              "orphans": len(a.orphans), "duplicates": len(a.duplicates), "missing": len(a.missing),
              "errors": [e.get("summary") for e in run.result.errors()]}
    # Re-run: converges.
    proxy.configure(seed=0, rate=0.0)
    attempts, converged, errors, runs = converge(tfp, APPLY, limit=2)
    st2, status2 = state_of(tfp)
    a2 = audit(aws, s, gateway, st2)
    pl = tfp.timed(*PLAN)
    record.update({"followup_applies": attempts, "followup_converged": converged,
                   "followup_clean": a2.clean and pl.result.returncode == 0})
    if not a.clean:
        record["audit"] = a.as_dict()
    figures.add("cancellation", record)

    assert not run.timed_out and exit_after < CANCEL_BOUND, f"Terraform took {exit_after:.1f}s to stop"
    assert run.result.returncode != 0, "a cancelled apply reports failure"
    assert a.clean, f"after Ctrl-C at {operation}, the state does not record what exists: {a.as_dict()}"
    assert converged and attempts == 1, f"{errors}\n{failure_text(runs[-1])}"
    assert a2.clean and pl.result.returncode == 0, (a2.as_dict(), planned_changes(pl.result))
    assert_end_state(aws, s, gateway, st2, [NODE_CIDR], [POD_CIDR])


# ---------------------------------------------------------------- 4. unrecoverable runs

def _one_error(run: Run) -> dict:
    errs = run.result.errors()
    assert len(errs) == 1, f"expected exactly one error, got {json.dumps(errs, indent=1)}\n{run.result.stderr[-2000:]}"
    return errs[0]


UNRECOVERABLE = ["endpoint-down", "always-throttled", "failing-max-retries-2", "access-denied", "gateway-missing",
                 "create-route-resets"]


@pytest.mark.parametrize("case", UNRECOVERABLE)
def test_unrecoverable_run_fails_once_clearly_in_bounded_time(tfp, aws, seeded, proxy, figures, case):
    s = seeded
    gateway = "tgw"
    env = None
    log_env = {}
    tfp.write(config(s, gateway))
    if case == "endpoint-down":
        port = closed_port()
        env = terraform_env_for(f"http://127.0.0.1:{port}")
        # (Whether the endpoint itself is named: test_unreachable_endpoint_is_named.)
        expect, expect_any = ["Cannot reach AWS"], ["refused"]
    elif case == "always-throttled":
        # Throttling is retried until the operation's deadline (here timeouts.create), not
        # max_retries times: every mutation is throttled, so the create ends at 15 s.
        tfp.write(config(s, gateway, meta='timeouts {\n  create = "15s"\n}'))
        proxy.configure(seed=1, rate=1.0, kinds=["throttle"], only=is_mutation)
        expect, expect_any = ["RequestLimitExceeded"], ["until the operation's deadline"]
    elif case == "failing-max-retries-2":
        # max_retries keeps its meaning for the other retryable errors (here HTTP 500).
        tfp.write(config(s, gateway, provider="  max_retries = 2\n"))
        proxy.configure(seed=1, rate=1.0, kinds=["internal"])
        expect, expect_any = [], ["ServerException", "InternalError"]
        log_env = {"TF_LOG_PROVIDER": "debug"}   # each retry is visible in the log
    elif case == "access-denied":
        proxy.configure(seed=1, rate=1.0, kinds=["denied"])
        expect, expect_any = [], ["AccessDeniedException", "UnauthorizedOperation"]
    elif case == "gateway-missing":
        tfp.write(config(s, gateway, gateway_id="tgw-0000000000000dead"))
        # Found at plan time (DescribeTransitGateways), before anything is created.
        expect, expect_any = ["tgw-0000000000000dead"], ["InvalidTransitGatewayID", "not found", "does not exist"]
    else:
        proxy.configure(seed=1, rate=1.0, kinds=["reset_before"], only=lambda op: op == "ec2:CreateRoute")
        expect, expect_any = ["CreateRoute"], ["reach", "connection", "dispatch"]

    run = tfp.timed(*APPLY, env={**(env or {}), **log_env}, timeout=FAIL_BOUND + 60)
    stats = proxy.snapshot()
    proxy.configure(seed=0, rate=0.0)
    errs = run.result.errors()
    text = " ".join(f"{e.get('summary', '')} {e.get('detail', '')}" for e in errs)
    st, status = state_of(tfp)
    a = audit(aws, s, gateway, st)
    record = {"case": case, "seconds": round(run.seconds, 1), "exit_code": run.result.returncode,
              "errors": len(errs), "summary": errs[0].get("summary") if errs else None,
              "detail": (errs[0].get("detail") or "")[:600] if errs else None,
              "requests": stats["requests"] if env is None else None,
              "max_calls_of_one_operation": max(stats["by_operation"].values(), default=0) if env is None else None,
              "orphans": len(a.orphans), "duplicates": len(a.duplicates), "missing": len(a.missing)}
    figures.add("unrecoverable", record)

    assert not run.timed_out and run.seconds < FAIL_BOUND, f"{case}: took {run.seconds:.0f}s"
    assert not run.result.ok
    err = _one_error(run)
    assert err.get("detail"), "the error says how to fix it"
    for frag in expect:
        assert frag in text, f"{frag!r} not in {text!r}"
    assert any(f.lower() in text.lower() for f in expect_any), f"none of {expect_any} in {text!r}"
    assert "panic" not in run.result.stderr.lower()
    assert a.clean, f"{case}: {a.as_dict()}"
    if env is None:
        # Retries are bounded: no operation was tried more than the SDK's attempts
        # (6 by default) times per call; throttling and denial stop at the first call.
        # The diagnostic says so, and what to do.
        if case == "access-denied":
            assert stats["requests"] == 1, stats["by_operation"]
            assert "allow it in that identity's IAM policy" in text, text
        if case == "always-throttled":
            # Many more attempts than max_retries (5) allows, paced, until the deadline.
            throttled = max(n for op, n in stats["by_operation"].items() if is_mutation(op))
            assert throttled > 6, stats["by_operation"]
            assert run.seconds >= 15, run.seconds
            assert "raise the resource's `timeouts`" in text and "max_retries" not in text, text
        if case == "failing-max-retries-2":
            assert stats["requests"] == 3, stats["by_operation"]
            assert "gave up after at most 3 attempts" in text, text
            logged = [line for line in run.result.stderr.splitlines()
                      if "provider.terraform-provider-hybridnet: AWS request attempt failed:" in line
                      and "operation=eks:DescribeCluster" in line]
            attempts = [m.group(1) for line in logged for m in [re.search(r" attempt=(\d+)", line)] if m]
            assert attempts == ["1", "2", "3"], run.result.stderr[-3000:]
    if case == "create-route-resets":
        # What was made before the failure is recorded, and a re-run converges.
        assert st is not None and st.get("attachment_id"), "the attachment made before the failure is in state"
        attempts, converged, errors, runs = converge(tfp, APPLY, limit=2)
        assert converged, f"{errors}\n{failure_text(runs[-1])}"
        st2, _ = state_of(tfp)
        assert audit(aws, s, gateway, st2).clean
        assert_end_state(aws, s, gateway, st2, [NODE_CIDR], [POD_CIDR])


def test_unreachable_endpoint_is_named(tfp, aws, seeded):
    s = seeded
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    tfp.write(config(s, "tgw", provider="  max_retries = 0\n"))
    run = tfp.timed(*APPLY, env=terraform_env_for(url), timeout=FAIL_BOUND)
    assert not run.result.ok and not run.timed_out
    err = _one_error(run)
    assert f"The request to {url} failed" in err.get("detail", ""), err
    assert "the provider made one attempt (`max_retries` = 0)" in err.get("detail", ""), err


# ---------------------------------------------------------------- AWS refusals that are not "already done"

@pytest.mark.parametrize("code", ["VpnGatewayAttachmentLimitExceeded", "InvalidParameterValue"])
def test_vgw_attach_refused_is_reported_at_once(tfp, aws, seeded, proxy, code):
    """AttachVpnGateway refused (the VPC has another VGW, a bad parameter): only an attachment
    that exists counts as done, so the AWS error reaches the user at once instead of a
    wait until `timeouts.create`."""
    s = seeded
    tfp.write(config(s, "vgw", meta='timeouts {\n  create = "40s"\n}'))
    proxy.configure(seed=0, rate=0.0, answer={"ec2:AttachVpnGateway": (400, code, "refused by the test")})
    started = time.monotonic()
    r = tfp.apply()
    took = time.monotonic() - started
    assert not r.ok
    errs = r.errors()
    assert len(errs) == 1, errs
    assert code in f"{errs[0]['summary']} {errs[0]['detail']}", errs[0]
    assert "ec2:AttachVpnGateway" in f"{errs[0]['summary']} {errs[0]['detail']}", errs[0]
    assert took < 30, f"the refusal took {took:.0f}s to surface (a silent wait)"
    assert proxy.snapshot()["by_operation"].get("ec2:AttachVpnGateway") == 1
    assert vgw_attachment_state(aws.ec2, s.vpn_gateway_id, s.vpc_id) in (None, "detached")
