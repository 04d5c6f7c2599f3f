variable "a" {
  default = "%{ if true }never closed"
}
