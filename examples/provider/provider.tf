terraform {
  required_providers {
    hybridnet = {
      source = "hybridnet/hybridnet"
    }
  }
}

# hybridnet_cidr_plan needs no provider settings and no AWS credentials.
provider "hybridnet" {}
