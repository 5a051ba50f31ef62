"""What real accounts show and moto does not: attachment states, a transit gateway shared
from another account, default EC2 quotas.

Real Terraform drives the provider, which talks to moto through `fault_proxy.FaultProxy`
rewriting moto's answers (`set_field_after`): an attachment `pending` (TGW) or
`attaching` (VGW) for a few seconds, each terminal state (`failed`, `failing`,
`rejected`, `rejecting`), `pendingAcceptance` until the test "accepts" it (the rewriting
stops and moto's `available` shows), and a transit gateway owned by another account
without auto-accept. Quotas need no rewriting: moto enforces none, the seed fills a route
table or a security group close to the default.

Every scenario ends in one clear diagnostic within seconds, never a silent wait; the
assertions cover the diagnostic text and attribute, the state and AWS read back.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from harness import (ADDR, FaultProxy, NODE_CIDR, POD_CIDR, Seed, TerraformWorkdir, changes_text, destroy,
                     diag_text, expected_rules, highlighted, network_args, ok, plan_exit, planned_actions,
                     resource_hcl, routes_of, routes_to, rule_rows, set_field_after, state_list, state_values,
                     tgw_attachments, tgw_state, vgw_attachment_state, warnings_with)

OTHER_ACCOUNT = "210987654321"
MOTO_ACCOUNT = "123456789012"
TERMINAL = ["failed", "failing", "rejected", "rejecting"]


# ---------------------------------------------------------------- fixtures

# ---------------------------------------------------------------- rewriting moto's answers

def vgw_state(new: str, vpc_id: str, only_from=("attached",)):
    """The VGW attachment of `vpc_id` reported in state `new`."""
    def rewrite(op: str, nth: int, body: bytes) -> bytes:
        if op != "ec2:DescribeVpnGateways":
            return body
        return set_field_after(body, "vpcId", vpc_id, "state", new, only_from)
    return rewrite


def tgw_owner(owner: str, auto_accept: str = "disable"):
    """Every transit gateway owned by `owner`, with AutoAcceptSharedAttachments `auto_accept`."""
    def rewrite(op: str, nth: int, body: bytes) -> bytes:
        if op != "ec2:DescribeTransitGateways":
            return body
        body = set_field_after(body, "transitGatewayId", None, "ownerId", owner)
        return set_field_after(body, "transitGatewayId", None, "autoAcceptSharedAttachments", auto_accept)
    return rewrite


def for_seconds(rewrite, seconds: float):
    """`rewrite` for `seconds` from the first answer it changes, then answers pass unchanged."""
    lock, first = threading.Lock(), []

    def timed(op: str, nth: int, body: bytes) -> bytes:
        with lock:
            if first and time.monotonic() - first[0] > seconds:
                return body
            new = rewrite(op, nth, body)
            if new != body and not first:
                first.append(time.monotonic())
            return new
    return timed


def both(*rewrites):
    def rewrite(op: str, nth: int, body: bytes) -> bytes:
        for r in rewrites:
            body = r(op, nth, body)
        return body
    return rewrite


def test_set_field_after_rewrites_only_the_named_item():
    body = (b'<r><set><item><transitGatewayAttachmentId>tgw-attach-1</transitGatewayAttachmentId><state>available'
            b'</state><subnetIds><item>subnet-1</item></subnetIds></item><item><transitGatewayAttachmentId>'
            b'tgw-attach-2</transitGatewayAttachmentId><state>available</state></item></set></r>')
    one = set_field_after(body, "transitGatewayAttachmentId", "tgw-attach-2", "state", "failed")
    assert one.count(b"<state>available</state>") == 1 and b"<state>failed</state>" in one
    assert one.index(b"failed") > one.index(b"tgw-attach-2")
    every = set_field_after(body, "transitGatewayAttachmentId", None, "state", "pending")
    assert every.count(b"<state>pending</state>") == 2
    assert set_field_after(body, "transitGatewayAttachmentId", None, "state", "x", ("deleted",)) == body


# ---------------------------------------------------------------- helpers

def timed_apply(tf: TerraformWorkdir, *extra: str):
    started = time.monotonic()
    r = tf.apply(*extra)
    return r, time.monotonic() - started


def raw_tgw_attachments(ec2, vpc_id: str) -> dict[str, str]:
    """attachment ID -> moto's state, whatever it is (moto drops deleted ones)."""
    atts = ec2.describe_transit_gateway_vpc_attachments(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["TransitGatewayVpcAttachments"]
    return {a["TransitGatewayAttachmentId"]: a["State"] for a in atts}


def plan_document(tf: TerraformWorkdir) -> dict:
    """The planned change of the resource, as `terraform show -json <plan file>` reports it."""
    p = tf.run("plan", "-input=false", "-no-color", "-out=tfplan")
    assert p.ok, p.stdout[-3000:] + p.stderr[-3000:]
    shown = tf.run("show", "-json", "-no-color", "tfplan")
    assert shown.ok, shown.stderr
    doc = json.loads(shown.stdout)
    return next(c for c in doc["resource_changes"] if c["address"] == ADDR)


# ---------------------------------------------------------------- pending for a few seconds, then usable

@pytest.mark.parametrize("gateway", ["tgw", "vgw"])
def test_attachment_in_progress_for_seconds_is_waited_for(tfp, aws, seeded, proxy, gateway):
    s = seeded
    hidden = (tgw_state("pending") if gateway == "tgw" else vgw_state("attaching", s.vpc_id))
    tfp.write(resource_hcl(network_args(s, gateway)))
    proxy.set_rewrite(for_seconds(hidden, 3.0))
    r, seconds = timed_apply(tfp)
    ok(r)
    assert r.warnings() == [], r.warnings()
    stats = proxy.snapshot()
    reads = "ec2:DescribeTransitGatewayVpcAttachments" if gateway == "tgw" else "ec2:DescribeVpnGateways"
    assert stats["by_operation"][reads] >= 3, stats  # polled while it was in progress
    assert 3.0 <= seconds < 60, seconds
    out = state_values(tfp)
    gw = s.gateway(gateway)
    if gateway == "tgw":
        [att] = tgw_attachments(aws.ec2, s.vpc_id, gw)
        assert out["attachment_id"] == att["TransitGatewayAttachmentId"] and att["State"] == "available"
    else:
        assert out["attachment_id"] == f"{gw}:{s.vpc_id}"
        assert vgw_attachment_state(aws.ec2, gw, s.vpc_id) == "attached"
    assert routes_to(aws.ec2, s, gw) == {NODE_CIDR, POD_CIDR}
    assert plan_exit(tfp).returncode == 0


# ---------------------------------------------------------------- terminal states

def fail_create(tfp, aws, s: Seed, proxy: FaultProxy, state: str) -> tuple[dict, str]:
    """An apply whose new attachment AWS reports in `state`: one error, within seconds,
    the attachment recorded. Returns (the error, the attachment ID)."""
    tfp.write(resource_hcl(network_args(s, "tgw")))
    proxy.set_rewrite(tgw_state(state))
    r, seconds = timed_apply(tfp)
    assert not r.ok
    assert seconds < 30, f"{seconds:.0f}s: a terminal state ends the apply at the next poll"
    errors = r.errors()
    assert len(errors) == 1, json.dumps(errors, indent=1)
    [att] = [a for a, st in raw_tgw_attachments(aws.ec2, s.vpc_id).items() if st == "available"]
    err = errors[0]
    assert err["summary"] == f"Transit gateway attachment {att} is {state}", err
    text = diag_text(err)
    for fragment in (s.vpc_id, s.transit_gateway_id, "recorded in the state", "next apply deletes it"):
        assert fragment in text, (fragment, text)
    if state.startswith("reject"):
        assert "rejected the attachment" in text and "accept" in text, text
    else:
        assert "subnets" in text, text
    # The attachment is recorded; nothing was routed to a gateway that cannot carry traffic.
    assert state_list(tfp) == [ADDR]
    assert state_values(tfp)["attachment_id"] == att
    assert routes_to(aws.ec2, s, s.transit_gateway_id) == set()
    return err, att


@pytest.mark.parametrize("state", TERMINAL)
def test_terminal_state_is_one_clear_error_and_the_next_apply_replaces_it(tfp, aws, seeded, proxy, state):
    s = seeded
    _, old = fail_create(tfp, aws, s, proxy, state)
    # Only the old attachment stays failed: the next apply deletes it and attaches anew.
    proxy.set_rewrite(tgw_state(state, attachment_id=old, only_from=("available",)))
    r, _ = timed_apply(tfp)
    ok(r)
    assert planned_actions(r).get(ADDR) in (None, "replace"), changes_text(r)  # tainted by the failed create
    out = state_values(tfp)
    states = raw_tgw_attachments(aws.ec2, s.vpc_id)
    assert out["attachment_id"] != old and states[out["attachment_id"]] == "available", states
    assert states.get(old, "deleted") == "deleted", states  # moto drops deleted ones
    assert routes_to(aws.ec2, s, s.transit_gateway_id) == {NODE_CIDR, POD_CIDR}
    assert plan_exit(tfp).returncode == 0


def test_destroy_deletes_a_failed_attachment(tfp, aws, seeded, proxy):
    s = seeded
    _, att = fail_create(tfp, aws, s, proxy, "failed")
    destroy(tfp)
    assert state_list(tfp) == []
    assert raw_tgw_attachments(aws.ec2, s.vpc_id) in ({}, {att: "deleted"})
    assert [r for r in rule_rows(aws.ec2, s.security_group_id) if r["description"].startswith("hybridnet:")] == []


def test_update_that_meets_a_failed_attachment_replaces_it(tfp, aws, seeded, proxy):
    """Not a create (no taint): the attachment of a working resource fails; refresh stops
    recording it, the plan leaves the ID unknown, apply replaces it."""
    s = seeded
    tfp.write(resource_hcl(network_args(s, "tgw")))
    ok(tfp.apply())
    old = state_values(tfp)["attachment_id"]
    proxy.set_rewrite(tgw_state("failed", attachment_id=old, only_from=("available",)))
    doc = plan_document(tfp)
    assert doc["change"]["actions"] == ["update"], doc["change"]
    assert doc["change"]["after_unknown"].get("attachment_id") is True, doc["change"]
    ok(tfp.apply())
    new = state_values(tfp)["attachment_id"]
    states = raw_tgw_attachments(aws.ec2, s.vpc_id)
    assert new != old and states in ({new: "available"}, {old: "deleted", new: "available"}), states
    assert plan_exit(tfp).returncode == 0


# ---------------------------------------------------------------- shared transit gateway, pendingAcceptance

def test_pending_acceptance_records_the_attachment_then_acceptance_adds_routes_in_place(tfp, aws, seeded, proxy):
    s = seeded
    tgw = s.transit_gateway_id
    tfp.write(resource_hcl(network_args(s, "tgw")))
    owner = tgw_owner(OTHER_ACCOUNT)
    proxy.set_rewrite(both(owner, tgw_state("pendingAcceptance")))

    # Plan says beforehand that the gateway's account must accept, on transit_gateway_id.
    p = tfp.plan()
    assert p.ok and p.errors() == [], changes_text(p)
    [w] = p.warnings()
    assert w["summary"] == "The transit gateway's account must accept the attachment", w
    for fragment in (OTHER_ACCOUNT, MOTO_ACCOUNT, s.vpc_id, tgw, "aws_ec2_transit_gateway_vpc_attachment_accepter",
                     "Auto accept shared attachments"):
        assert fragment in diag_text(w), (fragment, diag_text(w))
    assert highlighted(w) == json.dumps(tgw), highlighted(w)

    # Apply: no error (no taint), a warning naming attachment and owner; routes wait.
    r, seconds = timed_apply(tfp)
    ok(r)
    assert seconds < 60, seconds
    [att] = tgw_attachments(aws.ec2, s.vpc_id, tgw)
    att_id = att["TransitGatewayAttachmentId"]
    [w] = warnings_with(r, "awaits acceptance")
    assert w["summary"] == f"Attachment {att_id} awaits acceptance: routes not created yet", w
    for fragment in (OTHER_ACCOUNT, s.vpc_id, tgw, f"--transit-gateway-attachment-id {att_id}", "apply again"):
        assert fragment in diag_text(w), (fragment, diag_text(w))
    assert highlighted(w) == json.dumps(tgw), highlighted(w)
    st = state_values(tfp)
    assert st["attachment_id"] == att_id
    assert st["routes"] == []
    assert routes_to(aws.ec2, s, tgw) == set(), "no route to a gateway that cannot carry traffic yet"
    want = expected_rules([NODE_CIDR], [POD_CIDR])
    assert len(st["security_group_rule_ids"]) == len(want), "everything else is made"
    state_path = tfp.dir / "terraform.tfstate"
    assert json.loads(state_path.read_text())["resources"][0]["instances"][0].get("status") != "tainted"

    # Still waiting: nothing to do, and the plan says why.
    p = plan_exit(tfp)
    assert p.returncode == 0, changes_text(p)
    [w] = p.warnings()
    assert w["summary"] == f"Attachment {att_id} awaits acceptance", w
    assert OTHER_ACCOUNT in diag_text(w) and highlighted(w) == json.dumps(tgw)

    # A plan made while it waited, applied after acceptance: it keeps its word (no routes);
    # the next plan adds them.
    held = tfp.run("plan", "-input=false", "-no-color", "-out=held")
    assert held.ok, held.stdout[-3000:]
    proxy.set_rewrite(owner)  # accepted in the gateway's account: the attachment turns available
    ok(tfp.apply("held"))
    assert state_values(tfp)["routes"] == [] and routes_to(aws.ec2, s, tgw) == set()

    change = plan_document(tfp)["change"]
    assert change["actions"] == ["update"], change
    assert change["before"]["routes"] == [] and change["before"]["attachment_id"] == att_id
    assert change["after"]["attachment_id"] == att_id, "the accepted attachment is kept"
    assert {(x["route_table_id"], x["destination_cidr"], x["target_id"]) for x in change["after"]["routes"]} == {
        (s.route_table_id, NODE_CIDR, tgw), (s.route_table_id, POD_CIDR, tgw)}
    r, _ = timed_apply(tfp)
    ok(r)
    assert r.warnings() == [], r.warnings()
    assert state_values(tfp)["attachment_id"] == att_id
    assert routes_to(aws.ec2, s, tgw) == {NODE_CIDR, POD_CIDR}
    assert [a["TransitGatewayAttachmentId"] for a in tgw_attachments(aws.ec2, s.vpc_id)] == [att_id]

    # Converged: an empty plan, no warning, and no read beyond the unchanged path's.
    proxy.configure(seed=0, rate=0.0, rewrite=owner)
    p = plan_exit(tfp)
    assert p.returncode == 0, changes_text(p)
    assert p.warnings() == [], p.warnings()
    reads = proxy.snapshot()["by_operation"]
    assert reads.get("ec2:DescribeTransitGatewayVpcAttachments") == 1, reads  # refresh only
    assert reads.get("ec2:DescribeTransitGateways") == 1, reads  # the plan's gateway check


@pytest.mark.parametrize("owner,auto_accept,warns", [
    (OTHER_ACCOUNT, "disable", True),
    (OTHER_ACCOUNT, "enable", False),
    (MOTO_ACCOUNT, "disable", False),
])
def test_cross_account_gateway_warning_at_plan(tfp, aws, seeded, proxy, owner, auto_accept, warns):
    s = seeded
    tfp.write(resource_hcl(network_args(s, "tgw")))
    proxy.set_rewrite(tgw_owner(owner, auto_accept))
    p = tfp.plan()
    assert p.ok and p.errors() == [], changes_text(p)
    assert planned_actions(p).get(ADDR) == "create"
    got = warnings_with(p, "accept")
    if warns:
        assert len(got) == 1 and highlighted(got[0]) == json.dumps(s.transit_gateway_id), got
        assert f"belongs to account {OTHER_ACCOUNT}, not to account {MOTO_ACCOUNT} of VPC {s.vpc_id}" \
            in diag_text(got[0])
    else:
        assert got == [], got


# ---------------------------------------------------------------- quotas known at plan

def test_route_table_near_its_quota_warns_with_the_count(tfp, aws, seeded, proxy):
    s = seeded
    # The local route(s) and 0.0.0.0/0, then fillers up to 49; ours add 2: 51 > 50.
    for i in range(49 - len(routes_of(aws.ec2, s.route_table_id))):
        aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=f"100.64.{i}.0/24",
                             GatewayId=s.internet_gateway_id)
    now = len(routes_of(aws.ec2, s.route_table_id))
    assert now == 49, now
    tfp.write(resource_hcl(network_args(s, "tgw")))
    p = tfp.plan()
    assert p.ok and p.errors() == [], changes_text(p)
    [w] = warnings_with(p, "route quota")
    assert w["summary"] == "Route table would pass its route quota"
    text = diag_text(w)
    for fragment in (s.route_table_id, "51 non-propagated IPv4 routes", "(49 now, 2 to add)", "default quota is 50",
                     "can be raised"):
        assert fragment in text, (fragment, text)
    assert highlighted(w) == json.dumps([s.route_table_id]), highlighted(w)
    assert planned_actions(p).get(ADDR) == "create", "a warning never blocks"


def test_security_group_near_its_outbound_quota_warns_with_the_count(tfp, aws, seeded, proxy):
    s = seeded
    sg = s.security_group_id
    egress = [r for r in rule_rows(aws.ec2, sg) if r["direction"] == "egress"]
    need = 59 - len(egress)
    aws.ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000,
        "IpRanges": [{"CidrIp": f"10.{200 + i // 250}.{i % 250}.0/24", "Description": "filler"} for i in range(need)],
    }])
    assert len([r for r in rule_rows(aws.ec2, sg) if r["direction"] == "egress"]) == 59
    tfp.write(resource_hcl(network_args(s, "tgw")))
    p = tfp.plan()
    assert p.ok and p.errors() == [], changes_text(p)
    quota = [w for w in p.warnings() if "rule limit" in w["summary"]]
    assert [w["summary"] for w in quota] == ["Security group near its outbound rule limit"], quota
    text = diag_text(quota[0])
    for fragment in (sg, "61 outbound IPv4 rules", "(59 now, 2 to add)", "60 per direction", "can be raised"):
        assert fragment in text, (fragment, text)
    assert highlighted(quota[0]) == json.dumps(sg), highlighted(quota[0])
    assert planned_actions(p).get(ADDR) == "create"
