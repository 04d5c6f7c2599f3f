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
  description = "Path to the Lambda zip built by `make lambda-zip` (build/tfreg-lambda-x86_64.zip): `bootstrap` plus lib/. Null when the zip comes from S3 (s3_bucket, s3_key); exactly one of the two must be given."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip == null || endswith(coalesce(var.lambda_zip, "-"), ".zip")
    error_message = "lambda_zip must be the path of a .zip file."
  }
}

variable "s3_bucket" {
  description = "S3 bucket holding the Lambda zip (instead of lambda_zip), in the function's region."
  type        = string
  default     = null

  validation {
    condition     = var.s3_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.s3_bucket, "-")))
    error_message = "s3_bucket must be an S3 bucket name."
  }
}

variable "s3_key" {
  description = "Key of the Lambda zip in s3_bucket."
  type        = string
  default     = null

  validation {
    condition     = var.s3_key == null || try(length(var.s3_key) >= 1 && length(var.s3_key) <= 1024, false)
    error_message = "s3_key must be 1-1024 characters."
  }
}

variable "s3_object_version" {
  description = "Version id of the Lambda zip object in a versioned s3_bucket; a new version redeploys the function. Null: the function is updated only when s3_key or source_code_hash changes."
  type        = string
  default     = null

  validation {
    condition     = var.s3_object_version == null || try(length(var.s3_object_version) >= 1 && length(var.s3_object_version) <= 1024, false)
    error_message = "s3_object_version must be 1-1024 characters."
  }
}

variable "source_code_hash" {
  description = "Base64 SHA-256 of the zip in S3 (openssl dgst -sha256 -binary ZIP | base64), so that a new zip under the same key redeploys the function. Ignored with lambda_zip, whose hash the module computes."
  type        = string
  default     = null

  validation {
    condition     = var.source_code_hash == null || can(regex("^[A-Za-z0-9+/]{43}=$", coalesce(var.source_code_hash, "-")))
    error_message = "source_code_hash must be a base64-encoded SHA-256 (44 characters ending in '=')."
  }
}

variable "architectures" {
  description = "Instruction set of the function: [\"x86_64\"] (what `make lambda-zip` builds) or [\"arm64\"] (needs a zip built on or for aarch64; see the README)."
  type        = list(string)
  default     = ["x86_64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["x86_64", "arm64"], try(var.architectures[0], ""))
    error_message = "architectures must be [\"x86_64\"] or [\"arm64\"] (Lambda takes exactly one)."
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

variable "ephemeral_storage_size" {
  description = "The function's /tmp, MB. Provider releases published with create are staged there twice (the tar and its files): give it at least twice the largest release (tfreg provider publish --s3). 512 is Lambda's free default."
  type        = number
  default     = 512

  validation {
    condition     = var.ephemeral_storage_size >= 512 && var.ephemeral_storage_size <= 10240
    error_message = "ephemeral_storage_size must be between 512 and 10240 MB."
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

variable "reserved_concurrent_executions" {
  description = "Reserved concurrent executions of the function; -1 for none (the account's unreserved pool). A cap also caps what a flood of requests can cost."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions == -1 || var.reserved_concurrent_executions >= 1
    error_message = "reserved_concurrent_executions must be -1 (no reservation) or at least 1."
  }
}

variable "reserved_concurrency" {
  description = "DEPRECATED (removed in the next release): use reserved_concurrent_executions. When set, it wins over reserved_concurrent_executions; null (the default) for none."
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

variable "cloudwatch_log_group_retention_in_days" {
  description = "Days CloudWatch keeps the function's and the API's logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_log_group_retention_in_days)
    error_message = "cloudwatch_log_group_retention_in_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "log_retention_days" {
  description = "DEPRECATED (removed in the next release): use cloudwatch_log_group_retention_in_days. When set, it wins over cloudwatch_log_group_retention_in_days."
  type        = number
  default     = null

  validation {
    condition     = var.log_retention_days == null || contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], coalesce(var.log_retention_days, 0))
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

# --- terraform-aws-modules conventions: toggles, existing resources, IAM guardrails, tags -----------

variable "create" {
  description = "Create the registry's resources. False: the module creates nothing and every output is null (for example to keep a registry in some accounts of a for_each only)."
  type        = bool
  default     = true
}

variable "create_role" {
  description = "Create the function's execution role. False: role_arn names an existing role, to which the organisation attaches the policy in the function_policy_json output (the module attaches nothing to a role it did not create)."
  type        = bool
  default     = true
}

variable "role_arn" {
  description = "ARN of an existing execution role for the function (create_role = false). It must trust lambda.amazonaws.com and hold the function_policy_json policy."
  type        = string
  default     = null

  validation {
    condition     = var.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", coalesce(var.role_arn, "-")))
    error_message = "role_arn must be an IAM role ARN."
  }
}

variable "role_name" {
  description = "Name of the execution role the module creates. Null: NAME-function."
  type        = string
  default     = null

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "-")))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "role_path" {
  description = "IAM path of the execution role the module creates (and of nothing else), for organisations whose SCPs or permission boundaries are written per path. Null: /."
  type        = string
  default     = null

  validation {
    condition     = var.role_path == null || can(regex("^/([\\x21-\\x7E]{0,510}/)?$", coalesce(var.role_path, "/")))
    error_message = "role_path must start and end with '/' (for example /service-roles/), at most 512 printable ASCII characters."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as the permissions boundary of the execution role the module creates, where IAM guardrails demand one."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.role_permissions_boundary, "-")))
    error_message = "role_permissions_boundary must be an IAM policy ARN."
  }
}

variable "create_kms_key" {
  description = "Create the KMS key (and its alias) that seals IAM tokens and encrypts the table and logs. False: kms_key_arn names an existing key (see the README for the key policy it needs)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of an existing symmetric KMS key (create_kms_key = false). Its key policy must let CloudWatch Logs use it for the registry's log groups; the function's rights come from its role."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(var.kms_key_arn, "-")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias)."
  }
}

variable "function_tags" {
  description = "Tags of the Lambda function, added to tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.function_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}

variable "role_tags" {
  description = "Tags of the execution role the module creates, added to tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.role_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}

variable "table_tags" {
  description = "Tags of the DynamoDB table, added to tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.table_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}

variable "api_tags" {
  description = "Tags of the HTTP API, its stage and its custom domain, added to tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.api_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}

variable "kms_key_tags" {
  description = "Tags of the KMS key the module creates, added to tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.kms_key_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}

variable "cloudwatch_log_group_tags" {
  description = "Tags of the function's and the API's log groups, added to tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.cloudwatch_log_group_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}

variable "alarm_tags" {
  description = "Tags of the CloudWatch alarms, added to tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.alarm_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with \"aws:\"; values at most 256 characters."
  }
}

# --- Alarms and dashboard ---------------------------------------------------------------------------

variable "create_alarms" {
  description = "Create CloudWatch alarms on the function's errors and throttles and on the API's 5xx responses and p99 latency (four alarms, about 0.40 USD a month)."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires and when it recovers (SNS topics, for example). Empty: the alarms only change state."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_actions : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:", a))])
    error_message = "Every entry of alarm_actions must be an ARN."
  }
}

variable "alarm_thresholds" {
  description = "When the alarms fire, each over alarm_period seconds: function errors and throttles (counts), API 5xx responses (count) and the API's p99 latency (milliseconds)."
  type = object({
    errors         = optional(number, 1)
    throttles      = optional(number, 1)
    api_5xx        = optional(number, 5)
    p99_latency_ms = optional(number, 2000)
  })
  default = {}

  validation {
    condition = (var.alarm_thresholds.errors >= 1 && var.alarm_thresholds.throttles >= 1 && var.alarm_thresholds.api_5xx >= 1 &&
    var.alarm_thresholds.p99_latency_ms >= 1)
    error_message = "Every alarm threshold must be at least 1."
  }
}

variable "alarm_period" {
  description = "Length, in seconds, of the period each alarm evaluates (a multiple of 60)."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period >= 60 && var.alarm_period <= 86400 && var.alarm_period % 60 == 0
    error_message = "alarm_period must be a multiple of 60 between 60 and 86400."
  }
}

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard NAME with the API's requests, 4xx/5xx and latency and the function's invocations, errors, throttles, duration and concurrency."
  type        = bool
  default     = false
}
