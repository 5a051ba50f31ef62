terraform {
  required_providers {
    hybridnet = { source = "hybridnet/hybridnet", version = "~> 0.1" }
  }
}
