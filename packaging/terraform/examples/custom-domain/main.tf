# The registry at its own host name, with a certificate requested and validated in a Route 53
# zone, uploads stored under a prefix of a bucket, a concurrency cap, the Lambda zip from S3, an
# IAM path and permissions boundary for the role, alarms to an SNS topic and a dashboard.
# README.md says how to use it outside the tfreg repository.
#   terraform init && terraform apply -var domain_name=registry.example.com -var zone_id=Z0123456789ABC \
#     -var bucket=my-module-archives -var lambda_s3_key=tfreg/tfreg-lambda-x86_64.zip

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
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "domain_name" {
  description = "Host name of the registry, in the Route 53 zone zone_id."
  type        = string

  validation {
    condition     = length(var.domain_name) > 3 && strcontains(var.domain_name, ".")
    error_message = "domain_name must be a DNS name with at least one dot."
  }
}

variable "zone_id" {
  description = "Route 53 hosted zone of domain_name."
  type        = string

  validation {
    condition     = startswith(var.zone_id, "Z")
    error_message = "zone_id must be a Route 53 hosted zone id."
  }
}

variable "bucket" {
  description = "Existing S3 bucket: archives registered with create are read from it, uploads go under its modules/ prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be an S3 bucket name."
  }
}

variable "lambda_s3_key" {
  description = "Key of the Lambda zip (from `make lambda-zip`) in bucket."
  type        = string

  validation {
    condition     = endswith(var.lambda_s3_key, ".zip")
    error_message = "lambda_s3_key must be the key of a .zip object."
  }
}

variable "permissions_boundary" {
  description = "Optional permissions boundary policy ARN your organisation requires on new roles."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary == null || startswith(coalesce(var.permissions_boundary, "arn:"), "arn:")
    error_message = "permissions_boundary must be a policy ARN."
  }
}

variable "alarm_topic_arn" {
  description = "Optional SNS topic notified by the registry's alarms."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || startswith(coalesce(var.alarm_topic_arn, "arn:"), "arn:")
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

module "registry" {
  source = "../.."

  name                                   = "terraform-registry"
  s3_bucket                              = var.bucket
  s3_key                                 = var.lambda_s3_key
  archive_buckets                        = [var.bucket]
  upload_storage                         = { bucket = var.bucket, prefix = "modules" }
  domain_name                            = var.domain_name
  route53_zone_id                        = var.zone_id
  reserved_concurrent_executions         = 20
  max_token_lifetime                     = 7200
  cloudwatch_log_group_retention_in_days = 365
  role_path                              = "/service/"
  role_permissions_boundary              = var.permissions_boundary
  alarm_actions                          = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  create_dashboard                       = true
  tags                                   = { "team" = "platform" }
  table_tags                             = { "backup" = "daily" }
}

output "registry_url" {
  description = "Base URL of the registry."
  value       = module.registry.registry_url
}

output "first_grant_command" {
  description = "Command that creates the first grant."
  value       = module.registry.first_grant_command
}

output "install_helper_command" {
  description = "Command that installs the Terraform credentials helper."
  value       = module.registry.install_helper_command
}
