# Beside route tables and security groups that the AWS provider manages. Inline `route`
# blocks of aws_route_table and inline `ingress`/`egress` blocks of aws_security_group
# are authoritative: the AWS provider deletes every route or rule it did not declare,
# hybridnet's included. Either tell it to ignore them, or declare routes and rules as
# separate resources, which manage only themselves.
terraform {
  required_providers {
    aws       = { source = "hashicorp/aws", version = "~> 5.0" }
    hybridnet = { source = "hybridnet/hybridnet", version = "~> 0.1" }
  }
}

variable "vpc_id" {
  type = string
}

variable "transit_gateway_id" {
  type = string
}

# Pattern 1: inline blocks, with the routes and rules of others ignored.
resource "aws_route_table" "private" {
  vpc_id = var.vpc_id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = "nat-0123456789abcdef0"
  }

  lifecycle {
    ignore_changes = [route] # hybridnet adds the on-premises routes
  }
}

resource "aws_security_group" "cluster" {
  name   = "edge-cluster"
  vpc_id = var.vpc_id

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    ignore_changes = [ingress, egress] # hybridnet adds the hybrid nodes' rules
  }
}

# Pattern 2: no inline blocks; every route and rule its own resource.
resource "aws_route_table" "public" {
  vpc_id = var.vpc_id
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = "igw-0123456789abcdef0"
}

resource "aws_security_group" "other" {
  name   = "edge-2-cluster"
  vpc_id = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "bastion" {
  security_group_id = aws_security_group.other.id
  cidr_ipv4         = "10.0.0.0/16"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

resource "hybridnet_cluster_network" "edge" {
  cluster_name          = "edge"
  remote_node_cidrs     = ["192.168.0.0/22"]
  remote_pod_cidrs      = ["172.16.0.0/16"]
  security_group_id     = aws_security_group.cluster.id
  transit_gateway_id    = var.transit_gateway_id
  attachment_subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  route_table_ids       = [aws_route_table.private.id, aws_route_table.public.id]
}
