# Every kind of variable a module documents.
variable "required_string" {
  type        = string
  description = "A required string."
}

variable "optional_null" {
  type    = string
  default = null
}

variable "number" {
  type    = number
  default = 3
}

variable "decimals" {
  default = [1.50, 0.1, 1e3, 2E-2, -7, -0, 007, 12345678901234567890]
}

variable "bools" {
  type    = list(bool)
  default = [true, false, !true]
}

variable "object" {
  type = object({
    name = string # the name
    tags = optional(map(string), {})
  })
  default = {
    zeta  = "z"
    alpha = 1
    "quoted key" = [1, 2]
    3 = "number key"
  }
}

variable "nested" {
  type = map(object({ a = list(string), b = optional(number, 1) }))
  default = {
    one = { a = ["x", "y"], b = 2 }
    two = { a = [] }
  }
}

variable "reference" {
  default = var.other
}

variable "function" {
  default = jsonencode({ a = 1 })
}

variable "conditional" {
  default = true ? "a" : "b"
}

variable "sensitive" {
  type      = string
  sensitive = true
  nullable  = false
}

variable "validated" {
  type = string
  validation {
    condition     = length(var.validated) > 2
    error_message = "Too short."
  }
}

variable "tuple_of_objects" {
  default = [
    { name = "a", port = 80 },
    { name = "b", port = 443 },
  ]
}

variable "empty_collections" {
  default = { list = [], map = {} }
}

variable "any" {
  type = any
}
