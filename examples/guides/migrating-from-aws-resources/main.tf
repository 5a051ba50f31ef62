# The hand-wired objects of cluster "edge" handed over to hybridnet_cluster_network in
# one apply: the aws_* resource blocks are deleted from the configuration, and each
# `removed` block (Terraform 1.7 and later, OpenTofu 1.12 and later) makes Terraform
# forget its objects without destroying them.
terraform {
  required_providers {
    aws       = { source = "hashicorp/aws" }
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

removed {
  from = aws_route.onprem
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_vpc_security_group_ingress_rule.api_from_onprem
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_vpc_security_group_egress_rule.kubelet_to_nodes
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_ec2_transit_gateway_vpc_attachment.edge
  lifecycle {
    destroy = false
  }
}

resource "hybridnet_cluster_network" "edge" {
  cluster_name          = "edge"
  remote_node_cidrs     = ["192.168.0.0/22"]
  remote_pod_cidrs      = ["172.16.0.0/16"]
  transit_gateway_id    = "tgw-0123456789abcdef0"
  attachment_subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  route_table_ids       = ["rtb-0123456789abcdef0"]
  security_group_id     = "sg-0123456789abcdef0"
}
