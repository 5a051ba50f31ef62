"""Seeds the AWS emulator with the surroundings of an EKS cluster with hybrid nodes.

What the resource needs, as the reference document's steps build it: a VPC with DNS
hostnames (and a secondary CIDR), subnets in two Availability Zones, route tables, a
transit gateway and a virtual private gateway, a security group standing in for the
cluster security group (moto reports none), an EKS cluster with remote networks, and
the ENIs EKS would create (moto creates none), each with an address given explicitly. Plus foreign objects the resource must
leave alone: an internet gateway route, EKS's own inbound rule for the node CIDR, an
unrelated rule, an ENI of another cluster.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

CLUSTER = "edge"
ROLE_ARN = "arn:aws:iam::123456789012:role/eks"
SERVICE_CIDR = "172.20.0.0/16"
NODE_CIDR = "192.168.0.0/22"
POD_CIDR = "172.16.0.0/16"
VPC_CIDR = "10.0.0.0/16"
SECONDARY_CIDR = "10.1.0.0/16"
# The description EKS gives the inbound rules it adds for remote networks: not ours.
EKS_RULE_DESCRIPTION = "Amazon EKS: hybrid nodes"


@dataclass
class Seed:
    cluster_name: str
    vpc_id: str
    vpc_cidrs: list[str]
    subnet_a: str            # us-east-1a
    subnet_b: str            # us-east-1b
    subnet_a2: str           # us-east-1a again
    other_vpc_id: str
    other_subnet: str        # in other_vpc_id (us-east-1b)
    route_table_id: str      # a custom route table of the VPC
    main_route_table_id: str
    internet_gateway_id: str
    transit_gateway_id: str
    transit_gateway_id_2: str
    vpn_gateway_id: str
    security_group_id: str
    eks_rule_id: str         # EKS's own ingress tcp 443 from NODE_CIDR (identical to one of ours)
    foreign_rule_id: str     # ingress tcp 22 from 10.0.0.0/8, unrelated
    eni_ips: list[str]       # private IPs of the "Amazon EKS edge" ENIs, sorted
    foreign_eni_ip: str      # an ENI of another cluster in the same VPC
    node_cidrs: list[str] = field(default_factory=lambda: [NODE_CIDR])
    pod_cidrs: list[str] = field(default_factory=lambda: [POD_CIDR])

    @property
    def cluster_subnets(self) -> list[str]:
        return [self.subnet_a, self.subnet_b]

    def gateway(self, kind: str) -> str:
        return {"tgw": self.transit_gateway_id, "tgw2": self.transit_gateway_id_2, "vgw": self.vpn_gateway_id}[kind]


def used_addresses(ec2, subnet_id: str) -> set[str]:
    """Every private IPv4 address of the network interfaces in a subnet."""
    used: set[str] = set()
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["NetworkInterfaces"]
    for ni in enis:
        used.add(ni["PrivateIpAddress"])
        used.update(a["PrivateIpAddress"] for a in ni.get("PrivateIpAddresses", []))
    return used


def free_address(ec2, subnet_id: str) -> str:
    """The lowest address of the subnet no interface holds, past the 4 AWS reserves
    at the start (network, router, DNS, future) and before the broadcast address."""
    cidr = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["CidrBlock"]
    net = ipaddress.ip_network(cidr)
    used = used_addresses(ec2, subnet_id)
    for offset in range(4, net.num_addresses - 1):
        address = str(net.network_address + offset)
        if address not in used:
            return address
    raise RuntimeError(f"no free address left in {subnet_id} ({cidr})")


def create_interface(ec2, subnet_id: str, description: str, groups: list[str] | None = None) -> dict:
    """A network interface with an address given explicitly (`free_address`), never
    one the emulator picks: moto can hand one address to two interfaces."""
    kw = {"Groups": list(groups)} if groups else {}
    ni = ec2.create_network_interface(SubnetId=subnet_id, Description=description,
                                      PrivateIpAddress=free_address(ec2, subnet_id), **kw)["NetworkInterface"]
    return ni


def set_remote_networks(eks, cluster: str, nodes: list[str], pods: list[str]) -> None:
    """UpdateClusterConfig with new remote networks (moto applies them at once)."""
    cfg = {"remoteNodeNetworks": [{"cidrs": list(nodes)}]}
    if pods:
        cfg["remotePodNetworks"] = [{"cidrs": list(pods)}]
    eks.update_cluster_config(name=cluster, remoteNetworkConfig=cfg)
    got = eks.describe_cluster(name=cluster)["cluster"]["remoteNetworkConfig"]
    assert got["remoteNodeNetworks"][0]["cidrs"] == list(nodes), got


def seed_cluster_network(
    ec2,
    eks,
    *,
    cluster_name: str = CLUSTER,
    dns_hostnames: bool = True,
    secondary_cidr: bool = True,
    node_cidrs: list[str] | None = None,
    pod_cidrs: list[str] | None = None,
    eks_rule: bool = True,
) -> Seed:
    node_cidrs = list(node_cidrs or [NODE_CIDR])
    pod_cidrs = list(pod_cidrs if pod_cidrs is not None else [POD_CIDR])

    vpc = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "eks-hybrid"}])
    if dns_hostnames:
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    cidrs = [VPC_CIDR]
    if secondary_cidr:
        ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock=SECONDARY_CIDR)
        cidrs.append(SECONDARY_CIDR)

    def subnet(vpc_id: str, cidr: str, az: str) -> str:
        return ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]

    subnet_a = subnet(vpc, "10.0.1.0/24", "us-east-1a")
    subnet_b = subnet(vpc, "10.0.2.0/24", "us-east-1b")
    subnet_a2 = subnet(vpc, "10.0.3.0/24", "us-east-1a")

    other_vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    other_subnet = subnet(other_vpc, "10.50.1.0/24", "us-east-1b")

    main_rt = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]},
    ])["RouteTables"][0]["RouteTableId"]
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)

    tgw = ec2.create_transit_gateway(Description="to on-premises")["TransitGateway"]["TransitGatewayId"]
    tgw2 = ec2.create_transit_gateway(Description="to on-premises, new")["TransitGateway"]["TransitGatewayId"]
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]

    sg = ec2.create_security_group(GroupName=f"eks-cluster-sg-{cluster_name}", Description="EKS cluster security group",
                                   VpcId=vpc)["GroupId"]
    foreign_rule = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh"}],
    }])["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    eks_rule_id = ""
    if eks_rule:
        eks_rule_id = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": node_cidrs[0], "Description": EKS_RULE_DESCRIPTION}],
        }])["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    remote = {"remoteNodeNetworks": [{"cidrs": node_cidrs}]}
    if pod_cidrs:
        remote["remotePodNetworks"] = [{"cidrs": pod_cidrs}]
    eks.create_cluster(
        name=cluster_name,
        roleArn=ROLE_ARN,
        resourcesVpcConfig={"subnetIds": [subnet_a, subnet_b]},
        kubernetesNetworkConfig={"serviceIpv4Cidr": SERVICE_CIDR},
        remoteNetworkConfig=remote,
    )

    ips = []
    for s in (subnet_a, subnet_b):
        ips.append(create_interface(ec2, s, f"Amazon EKS {cluster_name}", [sg])["PrivateIpAddress"])
    foreign_eni = create_interface(ec2, subnet_a, "Amazon EKS other-cluster")
    return Seed(
        cluster_name=cluster_name,
        vpc_id=vpc,
        vpc_cidrs=cidrs,
        subnet_a=subnet_a,
        subnet_b=subnet_b,
        subnet_a2=subnet_a2,
        other_vpc_id=other_vpc,
        other_subnet=other_subnet,
        route_table_id=rt,
        main_route_table_id=main_rt,
        internet_gateway_id=igw,
        transit_gateway_id=tgw,
        transit_gateway_id_2=tgw2,
        vpn_gateway_id=vgw,
        security_group_id=sg,
        eks_rule_id=eks_rule_id,
        foreign_rule_id=foreign_rule,
        eni_ips=sorted(ips),
        foreign_eni_ip=foreign_eni["PrivateIpAddress"],
        node_cidrs=node_cidrs,
        pod_cidrs=pod_cidrs,
    )


def fill_inbound_rules(ec2, group_id: str, total: int = 60) -> None:
    """Brings a security group to `total` inbound rules (moto refuses a 61st)."""
    have = len([r for r in ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"] if not r["IsEgress"]])
    need = total - have
    if need > 0:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000,
            "IpRanges": [{"CidrIp": f"10.{200 + i // 250}.{i % 250}.0/24", "Description": "filler"} for i in range(need)],
        }])
