"""Routes written by someone else (the EKS Hybrid Nodes gateway, a firewall or VPN
appliance) for one of our CIDRs: the resource never deletes them and never takes them
over. Real Terraform against moto; every test reads the route tables back.
"""

from __future__ import annotations

import pytest

from harness import (ADDR, NODE_CIDR, POD_CIDR, apply, assert_clean, create_interface, destroy, diag_text,
                     network_args, plan_exit, resource_hcl, routes_of, state_values)


def other_writer_interface(aws, s) -> str:
    """A network interface in the VPC, as the hybrid nodes gateway or an appliance has."""
    return create_interface(aws.ec2, s.subnet_a, "appliance")["NetworkInterfaceId"]


@pytest.mark.parametrize("then", ["cidr-removed", "destroyed"])
def test_a_route_re_pointed_by_another_writer_is_never_deleted(tf_aws, aws, seeded, then):
    s = seeded
    tf_aws.write(resource_hcl(network_args(s, "tgw")))
    apply(tf_aws)
    eni = other_writer_interface(aws, s)
    aws.ec2.replace_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, NetworkInterfaceId=eni)

    if then == "cidr-removed":
        tf_aws.write(resource_hcl(network_args(s, "tgw", remote_pod_cidrs=None)))
        out = apply(tf_aws)["net"]
        assert {r["destination_cidr"] for r in out["routes"]} == {NODE_CIDR}
        assert_clean(tf_aws)
    else:
        destroy(tf_aws)
        assert state_values(tf_aws) is None
        assert NODE_CIDR not in routes_of(aws.ec2, s.route_table_id), "our own route is deleted"

    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == eni, "the other writer's route is left alone"


def test_a_route_that_exists_before_the_first_apply_is_named_at_plan_and_never_taken_over(tf_aws, aws, seeded):
    s = seeded
    eni = other_writer_interface(aws, s)
    aws.ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR, NetworkInterfaceId=eni)
    tf_aws.write(resource_hcl(network_args(s, "tgw")))

    p = plan_exit(tf_aws)
    assert p.returncode == 1, p.stdout[-3000:]
    errs = [e for e in p.errors() if "route" in e["summary"].lower()]
    assert len(errs) == 1, p.errors()
    e = errs[0]
    assert e["summary"] == "Route belongs to another writer"
    text = diag_text(e)
    for part in (s.route_table_id, POD_CIDR, eni, "route_table_ids"):
        assert part in text, f"{part!r} not in {text!r}"
    assert e["snippet"]["code"].strip().startswith("route_table_ids"), e

    a = tf_aws.apply()
    assert not a.ok
    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == eni, "apply never replaces it"
    assert s.transit_gateway_id not in routes_of(aws.ec2, s.route_table_id).values()
    assert ADDR not in tf_aws.run("state", "list").stdout

    # The user removes the foreign route: the plan goes through and ours is created.
    aws.ec2.delete_route(RouteTableId=s.route_table_id, DestinationCidrBlock=POD_CIDR)
    apply(tf_aws)
    assert routes_of(aws.ec2, s.route_table_id)[POD_CIDR] == s.transit_gateway_id
    assert_clean(tf_aws)
