# tfreg on AWS Lambda: one function (the `bootstrap` from `make lambda-zip`) behind an HTTP API,
# a DynamoDB table for grants and module versions, and a KMS key that seals the registry's IAM
# tokens. Nothing runs, and nearly nothing is billed, while nobody calls the registry.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  custom_domain = var.domain_name != null
  # The host clients use: it is the tokens' audience, so it must be the name in TF_TOKEN_… and
  # `credentials "HOST"` — the custom domain when there is one, else the API's own host.
  registry_host = local.custom_domain ? var.domain_name : trimprefix(aws_apigatewayv2_api.registry.api_endpoint, "https://")

  function_name = var.name
  table_name    = var.name

  storage_url = var.upload_storage == null ? null : "s3://${var.upload_storage.bucket}/${var.upload_storage.prefix}"

  tags = merge({ "app" = "tfreg" }, var.tags)
}
