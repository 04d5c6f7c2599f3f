# The smallest deployment: the registry at its execute-api host, reading archives from one bucket.
# README.md says how to use it outside the tfreg repository (module source, zip path).
#   terraform init && terraform apply -var lambda_zip=PATH/tfreg-lambda-x86_64.zip -var archive_bucket=my-module-archives

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.30.0, < 7.0.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy the registry in."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "lambda_zip" {
  description = "Path of the Lambda zip (`make lambda-zip` in the tfreg repository writes build/tfreg-lambda-x86_64.zip)."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip, ".zip") && fileexists(var.lambda_zip)
    error_message = "lambda_zip must be the path of an existing .zip file."
  }
}

variable "archive_bucket" {
  description = "Existing S3 bucket holding the module archives you register with the create route."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.archive_bucket))
    error_message = "archive_bucket must be an S3 bucket name."
  }
}

module "registry" {
  source = "../.."

  lambda_zip      = var.lambda_zip
  archive_buckets = [var.archive_bucket]
}

output "registry_host" {
  description = "Host name of the registry."
  value       = module.registry.registry_host
}

output "first_grant_command" {
  description = "Command that creates the first grant."
  value       = module.registry.first_grant_command
}

output "install_helper_command" {
  description = "Command that installs the Terraform credentials helper."
  value       = module.registry.install_helper_command
}
