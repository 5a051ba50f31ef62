"""Plan checks of issue 19, through real Terraform against moto on 127.0.0.1:

- at most one transit gateway attachment subnet per Availability Zone (an error on the
  extra element of the set `attachment_subnet_ids`, naming the zone);
- `webhook_ports` with `pod_network_mode = "unroutable"`: one warning on `webhook_ports`,
  the same in the resource, its data source and `hybridnet_cidr_plan`;
- private clusters: `node_credential_provider` ("ssm" | "iam-ra") decides which
  credential endpoints are needed; without it one warning names both choices; with it
  and the endpoints in place the plan has no warning at all;
- `adopted_security_group_rule_ids` in one order at apply and refresh: a configuration
  that outputs it plans empty after adopting hand-made rules.
"""

from __future__ import annotations

import json

import pytest

from harness import (NODE_CIDR, POD_CIDR, REGION, Seed, hcl, highlighted, network_args, network_hcl, rule_rows,
                     tgw_attachments)

BASE_ENDPOINTS = ["eks", "eks-auth", "ecr.api", "ecr.dkr", "sts"]
CREDENTIAL_ENDPOINTS = {"ssm": ["ssm", "ssmmessages"], "iam-ra": ["rolesanywhere"]}
WEBHOOK_SUMMARY = "Webhook ports given for an unroutable pod network"
UNDECIDED_SUMMARY = "Private cluster: node_credential_provider not set"


# ---------------------------------------------------------------- configurations

def resource_hcl(s: Seed, output: str | None = None, **over) -> str:
    """The resource for the seeded cluster; `None` in `over` drops an argument."""
    out = f'output "x" {{\n  value = hybridnet_cluster_network.this.{output}\n}}' if output else ""
    args = network_args(s, "tgw", **{"webhook_ports": None, "tags": None, **over})
    return network_hcl(args, output=False, extra=out)


def data_source_hcl(s: Seed, **over) -> str:
    args: dict = {"cluster_name": s.cluster_name, "security_group_id": s.security_group_id}
    args.update(over)
    body = "\n".join(f"  {k} = {hcl(v)}" for k, v in args.items() if v is not None)
    return (f'provider "hybridnet" {{}}\n\ndata "hybridnet_cluster_network" "x" {{\n{body}\n}}\n\n'
            'output "missing" {\n  value = data.hybridnet_cluster_network.x.missing\n}\n')


def cidr_plan_hcl(**over) -> str:
    args: dict = {"vpc_cidrs": ["10.0.0.0/16"], "remote_node_cidrs": [NODE_CIDR], "remote_pod_cidrs": [POD_CIDR]}
    args.update(over)
    body = "\n".join(f"  {k} = {hcl(v)}" for k, v in args.items() if v is not None)
    return f'data "hybridnet_cidr_plan" "this" {{\n{body}\n}}\n'


def plan(tf, hcl_text: str, *extra: str):
    tf.write(hcl_text)
    return tf.run("plan", "-json", "-no-color", "-input=false", *extra)


def apply(tf, hcl_text: str):
    tf.write(hcl_text)
    r = tf.run("apply", "-json", "-no-color", "-input=false", "-auto-approve")
    assert r.ok and not r.errors(), f"{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
    return r


def summaries(diags: list[dict]) -> list[str]:
    return [d["summary"] for d in diags]


# ---------------------------------------------------------------- private clusters (moto)

def make_private(aws, s: Seed) -> None:
    """moto's UpdateClusterConfig replaces the whole resourcesVpcConfig: pass the subnets again."""
    aws.eks.update_cluster_config(name=s.cluster_name, resourcesVpcConfig={
        "subnetIds": s.cluster_subnets, "endpointPublicAccess": False, "endpointPrivateAccess": True})
    vpc = aws.eks.describe_cluster(name=s.cluster_name)["cluster"]["resourcesVpcConfig"]
    assert (vpc["endpointPublicAccess"], vpc["endpointPrivateAccess"]) == (False, True), vpc


def add_endpoints(aws, s: Seed, services: list[str]) -> None:
    """Each service's interface endpoint, correct: private DNS, two zones, TCP 443 from the remote CIDRs."""
    sg = aws.ec2.create_security_group(GroupName="endpoints", Description="VPC endpoints", VpcId=s.vpc_id)["GroupId"]
    aws.ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": NODE_CIDR}, {"CidrIp": POD_CIDR}]}])
    for service in services:
        aws.ec2.create_vpc_endpoint(
            VpcEndpointType="Interface", VpcId=s.vpc_id, ServiceName=f"com.amazonaws.{REGION}.{service}",
            SubnetIds=[s.subnet_a, s.subnet_b], SecurityGroupIds=[sg], PrivateDnsEnabled=True)


# ---------------------------------------------------------------- 1. one subnet per zone

def test_two_attachment_subnets_in_one_zone_is_an_error_on_the_extra_one(tf_aws, aws, seeded):
    s = seeded
    subnets = [s.subnet_a, s.subnet_b, s.subnet_a2]
    p = plan(tf_aws, resource_hcl(s, attachment_subnet_ids=subnets))
    assert p.returncode == 1, p.stdout[-4000:]
    errors = p.errors()
    assert summaries(errors) == ["Two attachment subnets in us-east-1a"], errors
    # Terraform hands a set over sorted: the first of the zone is the smaller ID.
    first, extra = sorted([s.subnet_a, s.subnet_a2])
    detail = errors[0]["detail"]
    assert detail.startswith(f"Subnets {first} and {extra} are both in Availability Zone us-east-1a."), detail
    assert "at most one subnet per Availability Zone" in detail and "DuplicateSubnetsInSameZone" in detail, detail
    assert detail.endswith(f"Keep one subnet per zone in attachment_subnet_ids: remove {extra}."), detail
    # The path is attachment_subnet_ids["<extra>"]: Terraform underlines the set's expression.
    assert highlighted(errors[0]) == hcl(subnets), highlighted(errors[0])
    assert tgw_attachments(aws.ec2, s.vpc_id) == [], "a failed plan writes nothing"

    # One subnet per zone (the same two zones) plans.
    p = plan(tf_aws, resource_hcl(s, attachment_subnet_ids=[s.subnet_a2, s.subnet_b]))
    assert p.ok and not p.errors(), p.stdout[-4000:]


def test_a_virtual_private_gateway_takes_no_subnets_to_check(tf_aws, seeded):
    s = seeded
    hcl_text = resource_hcl(s, transit_gateway_id=None, vpn_gateway_id=s.vpn_gateway_id,
                            attachment_subnet_ids=None)
    p = plan(tf_aws, hcl_text)
    assert p.ok and not p.errors(), p.stdout[-4000:]


# ---------------------------------------------------------------- 2. webhook ports, unroutable pods

def webhook_warning_ok(w: dict) -> None:
    detail = w["detail"]
    assert w["summary"] == WEBHOOK_SUMMARY
    assert detail.startswith('The pod network is unroutable (pod_network_mode = "unroutable")'), detail
    assert "no security group rules are made for webhook_ports (9443)" in detail, detail
    assert "Run the webhooks on cloud nodes in the same EKS cluster" in detail, detail
    assert 'make the remote pod CIDRs routable' in detail and 'set pod_network_mode = "routable"' in detail, detail
    assert highlighted(w) == "[9443]", highlighted(w)


@pytest.mark.parametrize("kind", ["resource", "data-source", "cidr-plan"])
def test_webhook_ports_with_unroutable_pods_warn_on_webhook_ports(tf_aws, seeded, kind):
    s = seeded
    common = {"pod_network_mode": "unroutable", "webhook_ports": [9443]}
    if kind == "resource":
        r = plan(tf_aws, resource_hcl(s, **common))
    elif kind == "data-source":
        r = plan(tf_aws, data_source_hcl(s, **common))
    else:
        r = plan(tf_aws, cidr_plan_hcl(**common))
    assert r.ok and not r.errors(), r.stdout[-4000:]
    ours = [w for w in r.warnings() if w["summary"] == WEBHOOK_SUMMARY]
    assert len(ours) == 1, r.warnings()
    webhook_warning_ok(ours[0])


@pytest.mark.parametrize("mode", ["routable", "unroutable"])
def test_no_webhook_warning_when_it_does_not_apply(tf_aws, seeded, mode):
    s = seeded
    # Routable pods with ports, and unroutable pods without: neither is warned about.
    ports = [9443] if mode == "routable" else None
    r = plan(tf_aws, resource_hcl(s, pod_network_mode=mode, webhook_ports=ports))
    assert r.ok and not r.errors(), r.stdout[-4000:]
    assert WEBHOOK_SUMMARY not in summaries(r.warnings()), r.warnings()
    if mode == "routable":
        assert r.warnings() == [], r.warnings()


# ---------------------------------------------------------------- 3. private clusters

def test_without_node_credential_provider_one_warning_names_both_choices(tf_aws, aws, seeded):
    s = seeded
    make_private(aws, s)
    add_endpoints(aws, s, BASE_ENDPOINTS)
    p = plan(tf_aws, resource_hcl(s))
    assert p.ok and not p.errors(), p.stdout[-4000:]
    assert summaries(p.warnings()) == [UNDECIDED_SUMMARY], p.warnings()
    detail = p.warnings()[0]["detail"]
    for fragment in [
        f"EKS cluster {s.cluster_name} is reachable only through its private endpoint",
        'SSM hybrid activations (node_credential_provider = "ssm") need ssm and ssmmessages',
        'IAM Roles Anywhere (node_credential_provider = "iam-ra") needs rolesanywhere',
        f"The VPC lacks: interface VPC endpoint com.amazonaws.{REGION}.ssm in VPC {s.vpc_id} (needed if the hybrid "
        f"nodes use SSM hybrid activations); interface VPC endpoint com.amazonaws.{REGION}.ssmmessages in VPC "
        f"{s.vpc_id} (needed if the hybrid nodes use SSM hybrid activations); interface VPC endpoint "
        f"com.amazonaws.{REGION}.rolesanywhere in VPC {s.vpc_id} (needed if the hybrid nodes use IAM Roles "
        "Anywhere).",
        "Set node_credential_provider to the credential provider of the nodes' nodeadm configuration",
    ]:
        assert fragment in detail, f"{fragment}\n---\n{detail}"


@pytest.mark.parametrize("provider", ["ssm", "iam-ra"])
def test_with_node_credential_provider_and_its_endpoints_the_plan_has_no_warning(tf_aws, aws, seeded, provider):
    s = seeded
    make_private(aws, s)
    # Only this provider's endpoints: the other's absence is not a finding.
    add_endpoints(aws, s, BASE_ENDPOINTS + CREDENTIAL_ENDPOINTS[provider])
    p = plan(tf_aws, resource_hcl(s, node_credential_provider=provider), "-detailed-exitcode")
    assert p.returncode == 2 and not p.errors(), p.stdout[-4000:]
    assert p.warnings() == [], p.warnings()
    tf_aws.write(data_source_hcl(s, node_credential_provider=provider))
    r = tf_aws.run("apply", "-json", "-no-color", "-input=false", "-auto-approve")
    assert r.ok and r.warnings() == [] and not r.errors(), r.stdout[-4000:]
    assert [m for m in tf_aws.outputs()["missing"] if "VPC endpoint" in m] == []


def test_with_node_credential_provider_its_missing_endpoint_is_named_alone(tf_aws, aws, seeded):
    s = seeded
    make_private(aws, s)
    add_endpoints(aws, s, BASE_ENDPOINTS + ["ssm"])
    p = plan(tf_aws, resource_hcl(s, node_credential_provider="ssm"))
    assert p.ok and not p.errors(), p.stdout[-4000:]
    assert summaries(p.warnings()) == ["Private cluster: no ssmmessages VPC endpoint"], p.warnings()
    w = p.warnings()[0]
    assert highlighted(w) == json.dumps(s.cluster_name), highlighted(w)
    assert (f"Systems Manager messages (node_credential_provider = \"ssm\": SSM hybrid activations) through an "
            f"interface VPC endpoint com.amazonaws.{REGION}.ssmmessages in VPC {s.vpc_id}") in w["detail"], w["detail"]
    assert "needed if" not in w["detail"], w["detail"]
    tf_aws.write(data_source_hcl(s, node_credential_provider="ssm"))
    r = tf_aws.run("apply", "-json", "-no-color", "-input=false", "-auto-approve")
    assert r.ok and not r.errors(), r.stdout[-4000:]
    assert [m for m in tf_aws.outputs()["missing"] if "VPC endpoint" in m] == [
        f"interface VPC endpoint com.amazonaws.{REGION}.ssmmessages in VPC {s.vpc_id}"]


@pytest.mark.parametrize("kind", ["resource", "data-source"])
def test_an_unknown_node_credential_provider_is_an_error(tf_aws, seeded, kind):
    s = seeded
    text = (resource_hcl(s, node_credential_provider="iamra") if kind == "resource"
            else data_source_hcl(s, node_credential_provider="iamra"))
    p = plan(tf_aws, text)
    assert p.returncode == 1, p.stdout[-4000:]
    errors = p.errors()
    assert summaries(errors) == ["Invalid node credential provider"], errors
    detail = errors[0]["detail"]
    assert detail.startswith('node_credential_provider is "iamra"; use "ssm" or "iam-ra"'), detail
    assert highlighted(errors[0]) == '"iamra"', highlighted(errors[0])


# ---------------------------------------------------------------- 4. adopted rules, one order

def test_adopted_rules_plan_empty_after_apply(tf_aws, aws, seeded):
    s = seeded
    # Hand-made rules identical to ones the resource needs, made in the reverse of the
    # requirements' order (the seed already has EKS's ingress 443 from the node CIDR):
    # egress to the pods on the webhook port first, then egress 10250 to the nodes.
    for port, cidr in [(9443, POD_CIDR), (10250, NODE_CIDR)]:
        aws.ec2.authorize_security_group_egress(GroupId=s.security_group_id, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}])
    by_key = {(r["direction"], r["from_port"], r["cidr"]): r["id"] for r in rule_rows(aws.ec2, s.security_group_id)}
    # The requirements' order: ingress 443 nodes, ingress 443 pods, egress 10250 nodes, egress 9443 pods.
    expected = [by_key[("ingress", 443, NODE_CIDR)], by_key[("egress", 10250, NODE_CIDR)],
                by_key[("egress", 9443, POD_CIDR)]]
    assert expected[0] == s.eks_rule_id

    text = resource_hcl(s, output="adopted_security_group_rule_ids", webhook_ports=[9443])
    apply(tf_aws, text)
    assert tf_aws.outputs()["x"] == expected
    p = tf_aws.run("plan", "-json", "-no-color", "-input=false", "-detailed-exitcode")
    assert p.returncode == 0, f"expected an empty plan, got exit {p.returncode}:\n{p.stdout[-4000:]}"
    r = tf_aws.run("apply", "-refresh-only", "-json", "-no-color", "-input=false", "-auto-approve")
    assert r.ok, r.stdout[-3000:]
    assert tf_aws.outputs()["x"] == expected, "refresh lists them as apply did"
