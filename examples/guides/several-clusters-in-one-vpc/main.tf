# Two EKS clusters in one VPC: each has its own security group and its own on-premises
# networks; they share the VPC's route tables and its one attachment to the transit
# gateway. The first resource to apply creates the attachment, the other finds it
# (DuplicateTransitGatewayAttachment) and records it as found.
terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet", version = "~> 0.1" }
  }
}

provider "hybridnet" {}

locals {
  clusters = {
    edge = {
      nodes          = ["192.168.0.0/22"]
      pods           = ["172.16.0.0/16"]
      security_group = "sg-0aaaaaaaaaaaaaaaa"
    }
    edge-2 = {
      nodes          = ["192.168.8.0/22"]
      pods           = ["172.18.0.0/16"]
      security_group = "sg-0bbbbbbbbbbbbbbbb"
    }
  }
}

resource "hybridnet_cluster_network" "this" {
  for_each = local.clusters

  cluster_name          = each.key
  remote_node_cidrs     = each.value.nodes
  remote_pod_cidrs      = each.value.pods
  security_group_id     = each.value.security_group
  transit_gateway_id    = "tgw-0123456789abcdef0"
  attachment_subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  route_table_ids       = ["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"]
}

output "ownership" {
  description = "Per cluster: whether it created the shared attachment, and the routes it found."
  value = {
    for name, n in hybridnet_cluster_network.this : name => {
      attachment_created = n.attachment_created
      adopted_routes     = [for r in n.adopted_routes : "${r.route_table_id} ${r.destination_cidr}"]
    }
  }
}
