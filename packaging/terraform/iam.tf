# The function's role: its log group, its table, its key (for tokens only with this registry's
# encryption context; for the table only through DynamoDB), and reading the archive buckets the
# operator lists. Nothing else. With create_role = false the role is the operator's: the module
# attaches nothing to it, and the policy below is the function_policy_json output to attach.
data "aws_iam_policy_document" "assume" {
  count = local.create_role ? 1 : 0
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "function" {
  count                = local.create_role ? 1 : 0
  name                 = coalesce(var.role_name, "${var.name}-function")
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Execution role of the ${var.name} registry function"
  assume_role_policy   = data.aws_iam_policy_document.assume[0].json
  tags                 = merge(local.tags, var.role_tags)
}

data "aws_iam_policy_document" "function" {
  count = local.n
  statement {
    sid       = "WriteItsLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[0].arn}:*"]
  }

  statement {
    sid = "UseItsTable"
    # TransactWriteItems (a version and its archive record together) needs the item actions it wraps.
    actions = [
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan",
      "dynamodb:ConditionCheckItem",
      # UpdateItem: deprecation marks, archive replacement, and download counts added to summaries.
      "dynamodb:UpdateItem",
    ]
    resources = [aws_dynamodb_table.registry[0].arn]
  }

  statement {
    sid       = "SealAndOpenTokensForThisRegistryOnly"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:tfreg:audience"
      values   = [local.registry_host]
    }
  }

  statement {
    sid = "ReadAndWriteItsTableThroughTheKeyThatEncryptsIt"
    # A table encrypted with a customer-managed key needs its callers to hold the key rights
    # DynamoDB uses on their behalf; only through DynamoDB in this region and account.
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account]
    }
  }

  dynamic "statement" {
    for_each = length(var.archive_buckets) > 0 ? [1] : []
    content {
      sid       = "ReadRegisteredArchives"
      actions   = ["s3:GetObject", "s3:GetObjectAttributes"]
      resources = [for b in var.archive_buckets : "arn:${local.partition}:s3:::${b}/*"]
    }
  }

  dynamic "statement" {
    for_each = var.upload_storage == null ? [] : [var.upload_storage]
    content {
      sid       = "StoreUploadedArchives"
      actions   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectAttributes", "s3:DeleteObject"]
      resources = ["arn:${local.partition}:s3:::${statement.value.bucket}/${statement.value.prefix}/*"]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  count  = local.create_role ? 1 : 0
  name   = "${var.name}-function"
  role   = aws_iam_role.function[0].id
  policy = data.aws_iam_policy_document.function[0].json
}
