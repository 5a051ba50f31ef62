terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet", version = "~> 0.1" }
  }
}

# Offline: checks the CIDRs at plan, without AWS credentials.
data "hybridnet_cidr_plan" "edge" {
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["192.168.0.0/22"]
  remote_pod_cidrs  = ["172.16.0.0/16"]
}

# Against AWS: the attachment, the routes and the cluster security group rules.
resource "hybridnet_cluster_network" "edge" {
  cluster_name          = "edge"
  remote_node_cidrs     = data.hybridnet_cidr_plan.edge.remote_node_cidrs
  remote_pod_cidrs      = data.hybridnet_cidr_plan.edge.remote_pod_cidrs
  transit_gateway_id    = "tgw-0123456789abcdef0"
  attachment_subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  route_table_ids       = ["rtb-0123456789abcdef0"]
}
