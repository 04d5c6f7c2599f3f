# tfreg on AWS Lambda: one function (the `bootstrap` from `make lambda-zip`) behind an HTTP API,
# a DynamoDB table for grants and module versions, and a KMS key that seals the registry's IAM
# tokens. Nothing runs, and nearly nothing is billed, while nobody calls the registry.
#
# The conventions of terraform-aws-modules: a `create` toggle (every resource has a count), an
# existing role or KMS key instead of creating one, role path and permissions boundary for IAM
# guardrails, a tag map per resource on top of `tags`, outputs that are null when nothing is created.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  create         = var.create
  create_role    = local.create && var.create_role
  create_kms_key = local.create && var.create_kms_key
  n              = local.create ? 1 : 0

  # The role and the key the function uses: created here, or the operator's.
  role_arn    = local.create_role ? try(aws_iam_role.function[0].arn, null) : var.role_arn
  kms_key_arn = local.create_kms_key ? try(aws_kms_key.registry[0].arn, null) : var.kms_key_arn

  custom_domain = var.domain_name != null
  # The host clients use: it is the tokens' audience, so it must be the name in TF_TOKEN_… and
  # `credentials "HOST"` — the custom domain when there is one, else the API's own host.
  registry_host = local.custom_domain ? var.domain_name : trimprefix(try(aws_apigatewayv2_api.registry[0].api_endpoint, ""), "https://")

  function_name = var.name
  table_name    = var.name

  function_log_group_name = "/aws/lambda/${local.function_name}"
  api_log_group_name      = "/aws/apigateway/${var.name}"

  storage_url = var.upload_storage == null ? null : "s3://${var.upload_storage.bucket}/${var.upload_storage.prefix}"

  # Deprecated names (one release): when set they win, so a configuration written for the previous
  # release plans the same.
  log_retention_days             = coalesce(var.log_retention_days, var.cloudwatch_log_group_retention_in_days)
  reserved_concurrent_executions = var.reserved_concurrency != null ? var.reserved_concurrency : var.reserved_concurrent_executions

  tags = merge({ "app" = "tfreg" }, var.tags)
}

# Deprecation warnings (a check block warns, it does not fail the plan).
check "deprecated_variables" {
  assert {
    condition     = var.log_retention_days == null
    error_message = "log_retention_days is deprecated and will be removed in the next release: use cloudwatch_log_group_retention_in_days."
  }
  assert {
    condition     = var.reserved_concurrency == null
    error_message = "reserved_concurrency is deprecated and will be removed in the next release: use reserved_concurrent_executions."
  }
}
