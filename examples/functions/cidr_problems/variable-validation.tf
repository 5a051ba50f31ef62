terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet" }
  }
}

variable "networks" {
  description = "The cluster's VPC, on-premises node and pod CIDRs."
  type = object({
    vpc_cidrs         = list(string)
    remote_node_cidrs = list(string)
    remote_pod_cidrs  = optional(list(string))
    pod_network_mode  = optional(string)
  })

  validation {
    condition     = length(provider::hybridnet::cidr_problems(var.networks)) == 0
    error_message = join("\n", [for p in provider::hybridnet::cidr_problems(var.networks) : p.summary])
  }
}
