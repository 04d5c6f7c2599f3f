variable "name" {
  description = "Name of the registry: prefixes every resource (function, table, API, key alias, log groups)."
  type        = string
  default     = "tfreg"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,39}$", var.name))
    error_message = "name must start with a letter and hold at most 40 letters, digits and hyphens."
  }
}

variable "lambda_zip" {
  description = "Path to the Lambda zip built by `make lambda-zip` (build/tfreg-lambda-x86_64.zip): `bootstrap` plus lib/."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip, ".zip")
    error_message = "lambda_zip must be the path of a .zip file."
  }
}

variable "archive_buckets" {
  description = "S3 buckets holding module archives that are registered with the create route (bring your own bucket). The function may only read objects in them (s3:GetObject, s3:GetObjectAttributes)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for b in var.archive_buckets : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b))])
    error_message = "Every entry of archive_buckets must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)."
  }
}

variable "upload_storage" {
  description = "Optional bucket and key prefix where the upload route stores archives it receives (TFREG_STORAGE = s3://BUCKET/PREFIX). The function may put, read and delete objects under that prefix only. Null: archives are registered with the create route only."
  type = object({
    bucket = string
    prefix = optional(string, "modules")
  })
  default = null

  validation {
    condition     = var.upload_storage == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.upload_storage.bucket))
    error_message = "upload_storage.bucket must be an S3 bucket name."
  }

  validation {
    condition     = var.upload_storage == null || can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.upload_storage.prefix))
    error_message = "upload_storage.prefix must be a key prefix of letters, digits, '.', '_', '-' and '/' separators, without a leading or trailing '/'."
  }
}

variable "max_token_lifetime" {
  description = "Longest lifetime, in seconds, of a registry token issued for an IAM identity (MAX_IAM_TOKEN_EXPIRATION_WINDOW)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_token_lifetime >= 60 && var.max_token_lifetime <= 43200 && floor(var.max_token_lifetime) == var.max_token_lifetime
    error_message = "max_token_lifetime must be a whole number of seconds between 60 and 43200 (12 hours)."
  }
}

variable "memory_size" {
  description = "Memory of the Lambda function, MB. tfreg peaks below 40 MiB; more memory also buys more CPU."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout of the Lambda function, seconds (API Gateway gives up after 30)."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 30
    error_message = "timeout must be between 1 and 30 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the function, or null for none (the account's unreserved pool). A cap also caps what a flood of requests can cost."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1, false)
    error_message = "reserved_concurrency must be null or at least 1."
  }
}

variable "throttling" {
  description = "Steady request rate (per second) and burst the HTTP API allows before answering 429."
  type = object({
    rate_limit  = number
    burst_limit = number
  })
  default = {
    rate_limit  = 100
    burst_limit = 200
  }

  validation {
    condition     = var.throttling.rate_limit > 0 && var.throttling.burst_limit > 0
    error_message = "throttling.rate_limit and throttling.burst_limit must be positive."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's and the API's logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "log_level" {
  description = "Log level of the function (LOG_LEVEL): trace, debug, info, notice, warning, error or critical."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "notice", "warning", "error", "critical"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, notice, warning, error, critical."
  }
}

variable "domain_name" {
  description = "Optional custom host name of the registry (for example registry.example.com). Null: the registry is reached at the API's execute-api host."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a lower-case DNS name with at least one dot."
  }
}

variable "certificate_arn" {
  description = "ACM certificate (in this region) for domain_name. Null with domain_name set: the module requests one and validates it through DNS in route53_zone_id."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "route53_zone_id" {
  description = "Optional Route 53 hosted zone for domain_name: the module adds the alias record (and the certificate's validation records when it requests the certificate)."
  type        = string
  default     = null

  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a Route 53 hosted zone id (Z…)."
  }
}

variable "deletion_protection" {
  description = "Protect the DynamoDB table (grants and module versions) from deletion, and keep the KMS key for 30 days after it is destroyed."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")
    ])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}
