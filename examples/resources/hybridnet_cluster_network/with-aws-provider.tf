# The cluster, its subnets and route tables come from the AWS provider, and the transit
# gateway is created with it; hybridnet wires them together for the hybrid nodes.
terraform {
  required_providers {
    aws       = { source = "hashicorp/aws", version = "~> 5.0" }
    hybridnet = { source = "hybridnet/hybridnet", version = "~> 0.1" }
  }
}

data "aws_eks_cluster" "edge" {
  name = "edge"
}

data "aws_subnets" "private" {
  filter {
    name   = "vpc-id"
    values = [data.aws_eks_cluster.edge.vpc_config[0].vpc_id]
  }
  tags = {
    tier = "private"
  }
}

data "aws_route_tables" "private" {
  vpc_id = data.aws_eks_cluster.edge.vpc_config[0].vpc_id
  tags = {
    tier = "private"
  }
}

# A transit gateway attachment takes at most one subnet per Availability Zone: the
# first private subnet of each zone.
data "aws_subnet" "private" {
  for_each = toset(data.aws_subnets.private.ids)
  id       = each.value
}

locals {
  subnets_by_zone       = { for s in data.aws_subnet.private : s.availability_zone => s.id... }
  attachment_subnet_ids = [for zone, ids in local.subnets_by_zone : sort(ids)[0]]
}

resource "aws_ec2_transit_gateway" "onprem" {
  description = "To the on-premises network of the edge cluster"
}

resource "hybridnet_cluster_network" "edge" {
  cluster_name          = data.aws_eks_cluster.edge.name
  remote_node_cidrs     = ["192.168.0.0/22"]
  remote_pod_cidrs      = ["172.16.0.0/16"]
  transit_gateway_id    = aws_ec2_transit_gateway.onprem.id
  attachment_subnet_ids = local.attachment_subnet_ids
  route_table_ids       = data.aws_route_tables.private.ids
}
