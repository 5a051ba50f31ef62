resource "hybridnet_cluster_network" "edge" {
  cluster_name          = "edge"
  remote_node_cidrs     = ["192.168.0.0/22"]
  remote_pod_cidrs      = ["172.16.0.0/16"]
  transit_gateway_id    = "tgw-0123456789abcdef0"
  attachment_subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  route_table_ids       = ["rtb-0123456789abcdef0"]
  webhook_ports         = [9443]

  tags = {
    team = "platform"
  }

  timeouts {
    create = "20m"
  }
}
