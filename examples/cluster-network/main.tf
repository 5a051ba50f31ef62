# Wires an EKS cluster with hybrid nodes into its VPC through a transit gateway:
# the attachment, routes for the on-premises node and pod CIDRs in the given route
# table, and the cluster security group rules. `scripts/demo.sh` applies it against
# a local AWS emulator it seeds with these objects.
terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

provider "hybridnet" {}

variable "cluster_name" { type = string }
variable "transit_gateway_id" { type = string }
variable "attachment_subnet_ids" { type = list(string) }
variable "route_table_ids" { type = list(string) }
variable "security_group_id" { type = string }

# Catch a bad CIDR plan before touching AWS.
data "hybridnet_cidr_plan" "check" {
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["192.168.0.0/22"]
  remote_pod_cidrs  = ["172.16.0.0/16"]
}

resource "hybridnet_cluster_network" "edge" {
  cluster_name          = var.cluster_name
  remote_node_cidrs     = data.hybridnet_cidr_plan.check.remote_node_cidrs
  remote_pod_cidrs      = data.hybridnet_cidr_plan.check.remote_pod_cidrs
  transit_gateway_id    = var.transit_gateway_id
  attachment_subnet_ids = var.attachment_subnet_ids
  route_table_ids       = var.route_table_ids
  security_group_id     = var.security_group_id
  webhook_ports         = [9443]

  tags = {
    team = "platform"
  }
}

output "routes" {
  value = [for r in hybridnet_cluster_network.edge.routes : "${r.route_table_id}: ${r.destination_cidr} -> ${r.target_id}"]
}

output "security_group_rule_ids" {
  value = hybridnet_cluster_network.edge.security_group_rule_ids
}

output "eks_cluster_ips" {
  value = hybridnet_cluster_network.edge.eks_network_interface_ips
}
