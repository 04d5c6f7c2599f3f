# Grants and module versions (the layout of the tool tfreg replaces: pk/sk strings). On demand:
# no cost without requests.
resource "aws_dynamodb_table" "registry" {
  count                       = local.n
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  # Used presigned STS requests (pk = SignedRequest~…) expire: a presigned request is accepted once
  # while it is valid, and DynamoDB deletes the record afterwards. No other item has expires_at.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }

  tags = merge(local.tags, var.table_tags)
}
