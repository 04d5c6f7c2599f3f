a = <<-EOT
  x ${y}
  EOT
b = [for k, v in m : k if v]
