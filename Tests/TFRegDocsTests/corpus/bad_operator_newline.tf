variable "a" {
  default = 1 +
    2
}
