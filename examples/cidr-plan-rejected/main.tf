# A plan a reviewer should never approve: the pod CIDR overlaps the node CIDR and
# the second node CIDR is not private. `terraform plan` rejects it, pointing at the
# exact list elements.
terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

data "hybridnet_cidr_plan" "edge" {
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["192.168.0.0/22", "100.64.0.0/16"] # [1] is not RFC 1918
  remote_pod_cidrs  = ["172.16.0.0/16", "192.168.2.0/24"] # [1] overlaps remote_node_cidrs[0]
}
