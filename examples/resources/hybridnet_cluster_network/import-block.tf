# Terraform 1.5 and later, OpenTofu 1.6 and later: import by EKS cluster name from the configuration.
# Without a resource block for the address, `tofu plan -generate-config-out=generated.tf`
# writes one from what the import reads.
import {
  to = hybridnet_cluster_network.edge
  id = "edge"
}
