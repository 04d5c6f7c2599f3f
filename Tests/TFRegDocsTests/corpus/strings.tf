variable "escapes" {
  default = "tab\there \"quoted\" back\\slash \u00e9 \U0001F600 newline\n"
}

variable "literal_dollar" {
  default = "$${not_interpolated} and %%{not_a_directive}"
}

variable "interpolation_of_literal" {
  default = "v${1}-${"x"}-${true}"
}

variable "lone_interpolation" {
  default = "${42}"
}

variable "interpolation_of_reference" {
  default = "prefix-${var.name}"
}

variable "directive" {
  default = "%{ if true }yes%{ else }no%{ endif }"
}

variable "strip" {
  default = "a ${~ "b" ~} c"
}

variable "heredoc" {
  default = <<EOT
line one
  line two ${"three"}
EOT
}

variable "flush_heredoc" {
  default = <<-EOT
    indented
      more

    back
    EOT
}

variable "heredoc_with_marker_text" {
  default = <<EOT
EOTX is not the end
 EOT
}

variable "html" {
  default = "<script>alert('x')</script> & \u2028"
}

variable "unicode_name_ok" {
  description = "Ünïcödé ✓"
  default     = "日本語"
}
