/* A block comment with ${not_an_interpolation} and "quotes"
   spanning lines */
// A line comment with ${ and %{ and "
# A hash comment with <<EOT
variable "after_comments" { # trailing comment
  type = string // another
  /* inline */ default = "x" /* after */
}

variable "one_line" { default = 1 }

variable "empty_one_line" {}

locals { a = { for k, v in var.m : k => v... if v != null } }

locals {
  b = [for s in var.list : upper(s) if s != ""]
  c = var.list[*].id
  d = var.obj.*.name
  f = (1 + 2) * 3 % 4 >= 1 && !false || null == null
}
