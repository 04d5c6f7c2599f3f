resource "aws_lambda_function" "registry" {
  #checkov:skip=CKV_AWS_50:tfreg sends no X-Ray segments; it passes the trace header (_X_AMZN_TRACE_ID) through, so active tracing would only add cost.
  #checkov:skip=CKV_AWS_115:reserved concurrency draws from the account's pool (10 in new accounts, where reserving fails); set var.reserved_concurrency to cap it.
  #checkov:skip=CKV_AWS_116:invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:the function calls only public AWS endpoints (DynamoDB, S3, KMS, STS); a VPC would need NAT or interface endpoints, which are billed while idle.
  #checkov:skip=CKV_AWS_173:the environment holds no secret (table name, key ARN, host, limits); encrypting it with the CMK would add a KMS grant for nothing.
  #checkov:skip=CKV_AWS_272:the zip is built from source by the operator (make lambda-zip); set up AWS Signer and a code signing config separately to require signatures.
  function_name                  = local.function_name
  description                    = "tfreg private Terraform module registry"
  role                           = aws_iam_role.function.arn
  filename                       = var.lambda_zip
  source_code_hash               = filebase64sha256(var.lambda_zip)
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = ["x86_64"]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency

  environment {
    variables = merge(
      {
        TABLE_NAME                      = aws_dynamodb_table.registry.name
        RESOLVER_TYPE                   = "API_GATEWAY_HTTP"
        IAM_AUTH_KMS_KEY                = aws_kms_key.registry.arn
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
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = "PassThrough"
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInvokeFromItsHTTPAPI"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.registry.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.registry.execution_arn}/*/*"
}
