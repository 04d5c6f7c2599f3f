variable "crlf" {
  type    = string
  default = "a"
}

variable "crlf_heredoc" {
  default = <<EOT
x
EOT
}
