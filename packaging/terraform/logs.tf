resource "aws_cloudwatch_log_group" "function" {
  count             = local.n
  name              = local.function_log_group_name
  retention_in_days = local.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = merge(local.tags, var.cloudwatch_log_group_tags)
}

resource "aws_cloudwatch_log_group" "api" {
  count             = local.n
  name              = local.api_log_group_name
  retention_in_days = local.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = merge(local.tags, var.cloudwatch_log_group_tags)
}
