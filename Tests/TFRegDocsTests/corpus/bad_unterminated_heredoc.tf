variable "a" {
  default = <<EOT
never closed
