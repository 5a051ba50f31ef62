data "hybridnet_cidr_plan" "edge" {
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["192.168.0.0/22"]
  remote_pod_cidrs  = ["172.16.0.0/16"]
  cni               = "cilium"
  webhook_ports     = [9443]
}

output "vpc_routes" {
  value = data.hybridnet_cidr_plan.edge.vpc_routes
}
