"""Seeds a local AWS emulator (moto) with what `examples/cluster-network` needs:
a VPC with DNS hostnames, two subnets in two AZs, a route table, a transit gateway,
a security group standing in for the cluster security group, an EKS cluster with
remote networks, and the ENIs EKS would create (each address given explicitly).
Prints Terraform variables as JSON.

Usage: python demo_seed.py http://127.0.0.1:PORT
"""

import json
import sys

import boto3


def main(endpoint: str) -> None:
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2 = boto3.client("ec2", **kw)
    eks = boto3.client("eks", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
        for i, az in enumerate(["us-east-1a", "us-east-1b"], start=1)
    ]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    tgw = ec2.create_transit_gateway(Description="to on-premises")["TransitGateway"]["TransitGatewayId"]
    sg = ec2.create_security_group(GroupName="eks-cluster-sg-edge", Description="EKS cluster", VpcId=vpc)["GroupId"]
    eks.create_cluster(
        name="edge",
        roleArn="arn:aws:iam::123456789012:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": subnets},
        kubernetesNetworkConfig={"serviceIpv4Cidr": "172.20.0.0/16"},
        remoteNetworkConfig={
            "remoteNodeNetworks": [{"cidrs": ["192.168.0.0/22"]}],
            "remotePodNetworks": [{"cidrs": ["172.16.0.0/16"]}],
        },
    )
    # Addresses given explicitly (the emulator can hand one address to two interfaces):
    # the first after the 4 AWS reserves in each /24.
    for i, s in enumerate(subnets, start=1):
        ec2.create_network_interface(SubnetId=s, Description="Amazon EKS edge", PrivateIpAddress=f"10.0.{i}.4")
    json.dump({
        "cluster_name": "edge",
        "transit_gateway_id": tgw,
        "attachment_subnet_ids": subnets,
        "route_table_ids": [rtb],
        "security_group_id": sg,
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
