# Provider-defined functions (Terraform 1.8, hashicorp/hcl 2.21): newer than Debian's hcl.
variable "arn" {
  default = provider::aws::arn_parse("arn:aws:iam::123456789012:root")
}
