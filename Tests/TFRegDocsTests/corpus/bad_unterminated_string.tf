variable "ok" {
  default = 1
}

variable "broken" {
  default = "no end
}
