# The attachment left to the AWS provider: created in the cluster's account, accepted
# in the network account, and this resource (manage_attachment = false) taking the
# gateway from the accepter, so that it runs after acceptance, in one apply.
terraform {
  required_providers {
    aws       = { source = "hashicorp/aws", version = "~> 5.0" }
    hybridnet = { source = "hybridnet/hybridnet", version = "~> 0.1" }
  }
}

provider "aws" {
  alias = "network"
  assume_role {
    role_arn = "arn:aws:iam::210987654321:role/network-admin"
  }
}

resource "aws_ec2_transit_gateway_vpc_attachment" "edge" {
  transit_gateway_id = "tgw-0123456789abcdef0"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
}

resource "aws_ec2_transit_gateway_vpc_attachment_accepter" "edge" {
  provider                      = aws.network
  transit_gateway_attachment_id = aws_ec2_transit_gateway_vpc_attachment.edge.id
}

resource "hybridnet_cluster_network" "edge" {
  cluster_name       = "edge"
  remote_node_cidrs  = ["192.168.0.0/22"]
  remote_pod_cidrs   = ["172.16.0.0/16"]
  manage_attachment  = false
  transit_gateway_id = aws_ec2_transit_gateway_vpc_attachment_accepter.edge.transit_gateway_id
  route_table_ids    = ["rtb-0123456789abcdef0"]
}
