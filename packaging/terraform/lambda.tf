resource "aws_lambda_function" "registry" {
  count = local.n
  #checkov:skip=CKV_AWS_50:tfreg sends no X-Ray segments; it passes the trace header (_X_AMZN_TRACE_ID) through, so active tracing would only add cost.
  #checkov:skip=CKV_AWS_115:reserved concurrency draws from the account's pool (10 in new accounts, where reserving fails); set var.reserved_concurrent_executions to cap it.
  #checkov:skip=CKV_AWS_116:invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:the function calls only public AWS endpoints (DynamoDB, S3, KMS, STS); a VPC would need NAT or interface endpoints, which are billed while idle.
  #checkov:skip=CKV_AWS_173:the environment holds no secret (table name, key ARN, host, limits); encrypting it with the CMK would add a KMS grant for nothing.
  #checkov:skip=CKV_AWS_272:the zip is built from source by the operator (make lambda-zip); set up AWS Signer and a code signing config separately to require signatures.
  function_name                  = local.function_name
  description                    = "tfreg private Terraform module registry"
  role                           = local.role_arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = var.architectures
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = local.reserved_concurrent_executions

  ephemeral_storage {
    size = var.ephemeral_storage_size
  }

  # The zip: a local file (its hash computed here), or an S3 object (hash given, or a new version).
  filename          = var.lambda_zip
  s3_bucket         = var.lambda_zip == null ? var.s3_bucket : null
  s3_key            = var.lambda_zip == null ? var.s3_key : null
  s3_object_version = var.lambda_zip == null ? var.s3_object_version : null
  source_code_hash  = var.lambda_zip != null ? filebase64sha256(var.lambda_zip) : var.source_code_hash

  environment {
    variables = merge(
      {
        TABLE_NAME                      = aws_dynamodb_table.registry[0].name
        RESOLVER_TYPE                   = "API_GATEWAY_HTTP"
        IAM_AUTH_KMS_KEY                = local.kms_key_arn
        TFREG_AUDIENCE                  = local.registry_host
        TFREG_TOKEN_SERVICE             = "execute-api"
        MAX_IAM_TOKEN_EXPIRATION_WINDOW = tostring(var.max_token_lifetime)
        LOG_LEVEL                       = var.log_level
      },
      local.storage_url == null ? {} : { TFREG_STORAGE = local.storage_url },
    )
  }

  logging_config {
    log_format = "Text" # tfreg writes JSON lines itself
    log_group  = aws_cloudwatch_log_group.function[0].name
  }

  tracing_config {
    mode = "PassThrough"
  }

  tags = merge(local.tags, var.function_tags)

  lifecycle {
    precondition {
      condition     = (var.lambda_zip != null) != (var.s3_bucket != null && var.s3_key != null)
      error_message = "Give the Lambda zip either as lambda_zip (a local file) or as s3_bucket and s3_key, not both and not neither."
    }
    precondition {
      condition     = local.role_arn != null
      error_message = "With create_role = false, role_arn must name the function's existing execution role."
    }
    precondition {
      condition     = local.kms_key_arn != null
      error_message = "With create_kms_key = false, kms_key_arn must name an existing KMS key."
    }
  }

  # With a role created here, its policy must exist before the function first runs.
  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_permission" "api" {
  count         = local.n
  statement_id  = "AllowInvokeFromItsHTTPAPI"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.registry[0].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.registry[0].execution_arn}/*/*"
}
