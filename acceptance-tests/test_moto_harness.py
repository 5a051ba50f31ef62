"""Self-check of the emulator harness (no Terraform): moto starts on loopback, resets
between tests, and the seed builds what the cluster_network tests rely on."""

from __future__ import annotations

import urllib.parse

from harness import (EKS_RULE_DESCRIPTION, NODE_CIDR, POD_CIDR, SERVICE_CIDR, closed_port, create_interface,
                     fill_inbound_rules, free_address, our_rules, routes_of, rule_rows, seed_cluster_network,
                     set_remote_networks, terraform_env_for, tgw_attachments, used_addresses,
                     vgw_attachment_state)


def test_server_is_loopback_and_env_points_at_it(moto_server):
    u = urllib.parse.urlparse(moto_server.url)
    assert u.hostname == "127.0.0.1"
    assert moto_server.answers()
    env = terraform_env_for(moto_server.url)
    assert env["AWS_ENDPOINT_URL"] == moto_server.url
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert closed_port() != moto_server.port


def test_seed_builds_the_cluster_surroundings(seeded, aws):
    s, ec2, eks = seeded, aws.ec2, aws.eks
    vpc = ec2.describe_vpcs(VpcIds=[s.vpc_id])["Vpcs"][0]
    assert [a["CidrBlock"] for a in vpc["CidrBlockAssociationSet"]] == ["10.0.0.0/16", "10.1.0.0/16"]
    assert ec2.describe_vpc_attribute(VpcId=s.vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    assert ec2.describe_vpc_attribute(VpcId=s.vpc_id, Attribute="enableDnsSupport")["EnableDnsSupport"]["Value"]

    subnets = {x["SubnetId"]: x for x in ec2.describe_subnets(SubnetIds=[s.subnet_a, s.subnet_b, s.subnet_a2, s.other_subnet])["Subnets"]}
    assert subnets[s.subnet_a]["AvailabilityZone"] == subnets[s.subnet_a2]["AvailabilityZone"] == "us-east-1a"
    assert subnets[s.subnet_b]["AvailabilityZone"] == "us-east-1b"
    assert subnets[s.other_subnet]["VpcId"] == s.other_vpc_id != s.vpc_id

    # moto's EKS: remote networks and service CIDR, but no vpcId and no cluster security group.
    c = eks.describe_cluster(name="edge")["cluster"]
    assert c["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == SERVICE_CIDR
    assert c["remoteNetworkConfig"]["remoteNodeNetworks"][0]["cidrs"] == [NODE_CIDR]
    assert c["remoteNetworkConfig"]["remotePodNetworks"][0]["cidrs"] == [POD_CIDR]
    assert c["resourcesVpcConfig"]["subnetIds"] == [s.subnet_a, s.subnet_b]
    assert "vpcId" not in c["resourcesVpcConfig"] and "clusterSecurityGroupId" not in c["resourcesVpcConfig"]

    set_remote_networks(eks, "edge", [NODE_CIDR, "192.168.8.0/22"], [POD_CIDR])
    assert eks.describe_cluster(name="edge")["cluster"]["remoteNetworkConfig"]["remoteNodeNetworks"][0]["cidrs"][1] == "192.168.8.0/22"

    enis = ec2.describe_network_interfaces(Filters=[
        {"Name": "vpc-id", "Values": [s.vpc_id]}, {"Name": "description", "Values": ["Amazon EKS edge"]},
    ])["NetworkInterfaces"]
    assert sorted(e["PrivateIpAddress"] for e in enis) == s.eni_ips and len(s.eni_ips) == 2
    assert s.foreign_eni_ip not in s.eni_ips

    assert routes_of(ec2, s.route_table_id) == {"10.0.0.0/16": "local", "10.1.0.0/16": "local", "0.0.0.0/0": s.internet_gateway_id}
    assert set(routes_of(ec2, s.main_route_table_id)) == {"10.0.0.0/16", "10.1.0.0/16"}

    rules = {r["id"]: r for r in rule_rows(ec2, s.security_group_id)}
    assert rules[s.eks_rule_id]["description"] == EKS_RULE_DESCRIPTION
    assert (rules[s.eks_rule_id]["direction"], rules[s.eks_rule_id]["from_port"], rules[s.eks_rule_id]["cidr"]) == ("ingress", 443, NODE_CIDR)
    assert rules[s.foreign_rule_id]["from_port"] == 22
    assert our_rules(ec2, s.security_group_id) == set()

    assert tgw_attachments(ec2, s.vpc_id) == []
    assert vgw_attachment_state(ec2, s.vpn_gateway_id, s.vpc_id) is None
    assert {t["TransitGatewayId"] for t in ec2.describe_transit_gateways()["TransitGateways"]} >= {s.transit_gateway_id, s.transit_gateway_id_2}

    fill_inbound_rules(ec2, s.security_group_id)
    assert len([r for r in rule_rows(ec2, s.security_group_id) if r["direction"] == "ingress"]) == 60


def test_reset_between_tests_and_state_helpers(aws):
    # The previous test's objects are gone.
    assert [v for v in aws.ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")] == []
    assert aws.eks.list_clusters()["clusters"] == []

    ec2 = aws.ec2
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    att = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[a, b])["TransitGatewayVpcAttachment"]
    assert [x["TransitGatewayAttachmentId"] for x in tgw_attachments(ec2, vpc, tgw)] == [att["TransitGatewayAttachmentId"]]
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att["TransitGatewayAttachmentId"])
    assert tgw_attachments(ec2, vpc) == []

    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc)
    assert vgw_attachment_state(ec2, vgw, vpc) == "attached"
    ec2.detach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc)
    assert vgw_attachment_state(ec2, vgw, vpc) == "detached"

    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="192.168.0.0/22", TransitGatewayId=tgw)
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="172.16.0.0/16", GatewayId=vgw)
    assert routes_of(ec2, rt) == {"10.0.0.0/16": "local", "192.168.0.0/22": tgw, "172.16.0.0/16": vgw}

    sg = ec2.create_security_group(GroupName="x", Description="x", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_egress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 10250, "ToPort": 10250,
                        "IpRanges": [{"CidrIp": "192.168.0.0/22", "Description": "hybridnet: kubelet"}]}],
        TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "team", "Value": "platform"}]}],
    )
    assert our_rules(ec2, sg) == {("egress", "tcp", 10250, 10250, "192.168.0.0/22")}
    tagged = [r for r in rule_rows(ec2, sg) if r["description"].startswith("hybridnet:")]
    assert tagged[0]["tags"] == {"team": "platform"}


def test_seeded_interfaces_have_explicit_distinct_addresses(seeded, aws):
    """Every seeded interface's address is the one the seed chose (the lowest free one
    of its subnet, past AWS's 4 reserved), never the emulator's: no two share one, even
    with more interfaces added the same way and a second cluster seeded in the account."""
    s, ec2 = seeded, aws.ec2
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [s.vpc_id]}])["NetworkInterfaces"]
    by_subnet = {}
    for ni in enis:
        by_subnet.setdefault(ni["SubnetId"], []).append(ni["PrivateIpAddress"])
    assert {k: sorted(v) for k, v in by_subnet.items()} == {
        s.subnet_a: ["10.0.1.4", "10.0.1.5"],   # EKS's, then the other cluster's
        s.subnet_b: ["10.0.2.4"],
    }
    assert s.eni_ips == ["10.0.1.4", "10.0.2.4"] and s.foreign_eni_ip == "10.0.1.5"

    added = [create_interface(ec2, s.subnet_a, f"extra {i}")["PrivateIpAddress"] for i in range(20)]
    assert added == [f"10.0.1.{i}" for i in range(6, 26)]
    assert free_address(ec2, s.subnet_a) == "10.0.1.26"
    every = [ni["PrivateIpAddress"] for ni in ec2.describe_network_interfaces(
        Filters=[{"Name": "vpc-id", "Values": [s.vpc_id]}])["NetworkInterfaces"]]
    assert len(every) == 23 and len(set(every)) == 23, sorted(every)
    assert used_addresses(ec2, s.subnet_b) == {"10.0.2.4"}

    other = seed_cluster_network(ec2, aws.eks, cluster_name="edge-2")
    assert other.vpc_id != s.vpc_id and other.eni_ips == ["10.0.1.4", "10.0.2.4"]
