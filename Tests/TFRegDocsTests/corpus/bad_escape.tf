variable "a" {
  default = "\q"
}
