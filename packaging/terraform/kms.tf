# One customer-managed key, rotated yearly by KMS: it wraps the data keys that seal IAM tokens
# (GenerateDataKey/Decrypt by the function, bound to the registry host by encryption context),
# encrypts the table at rest (through DynamoDB) and the log groups (through CloudWatch Logs).
# With create_kms_key = false, kms_key_arn names the operator's key instead (README: its policy).
resource "aws_kms_key" "registry" {
  count                   = local.create_kms_key ? 1 : 0
  description             = "${var.name}: seals registry IAM tokens; encrypts the registry table and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_protection ? 30 : 7
  policy                  = data.aws_iam_policy_document.key[0].json
  tags                    = merge(local.tags, var.kms_key_tags)
}

resource "aws_kms_alias" "registry" {
  count         = local.create_kms_key ? 1 : 0
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.registry[0].key_id
}

data "aws_iam_policy_document" "key" {
  count = local.create_kms_key ? 1 : 0
  #checkov:skip=CKV_AWS_109:a key policy; its "*" resource is this key alone, and the account-root statement is KMS's default, delegating to IAM.
  #checkov:skip=CKV_AWS_111:a key policy; its "*" resource is this key alone, and the account-root statement is KMS's default, delegating to IAM.
  #checkov:skip=CKV_AWS_356:a key policy; its "*" resource is this key alone (KMS key policies cannot name other resources).
  # The account administers the key through IAM, as with KMS's default key policy; the function's
  # own rights are in its role (iam.tf).
  statement {
    sid       = "AccountAdministersThroughIAM"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsThisRegistrysLogGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values = [
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.function_log_group_name}",
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.api_log_group_name}",
      ]
    }
  }
}
