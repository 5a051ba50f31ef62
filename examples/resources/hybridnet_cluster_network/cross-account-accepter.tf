# A transit gateway shared from a network account (AWS RAM) without auto-accept: the
# accepter, with a provider for the network account, accepts the attachment this
# resource creates. The first apply ends with a warning (awaiting acceptance) and the
# accepter accepts; the second apply adds the routes.
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

resource "hybridnet_cluster_network" "edge" {
  cluster_name          = "edge"
  remote_node_cidrs     = ["192.168.0.0/22"]
  remote_pod_cidrs      = ["172.16.0.0/16"]
  transit_gateway_id    = "tgw-0123456789abcdef0" # shared from 210987654321 through AWS RAM
  attachment_subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  route_table_ids       = ["rtb-0123456789abcdef0"]
}

resource "aws_ec2_transit_gateway_vpc_attachment_accepter" "edge" {
  provider                      = aws.network
  transit_gateway_attachment_id = hybridnet_cluster_network.edge.attachment_id
}
