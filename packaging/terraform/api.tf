# HTTP API (payload 2.0). GET /token is behind AWS_IAM: API Gateway checks the caller's SigV4
# signature and hands the verified ARN to the function in the request context, which issues a
# short-lived registry token for it. Every other route reaches the function unauthenticated by
# API Gateway, because Terraform cannot sign requests: the registry checks its bearer tokens itself
# and denies by default.
resource "aws_apigatewayv2_api" "registry" {
  count                        = local.n
  name                         = var.name
  description                  = "tfreg private Terraform module registry"
  protocol_type                = "HTTP"
  disable_execute_api_endpoint = local.custom_domain
  tags                         = merge(local.tags, var.api_tags)
}

resource "aws_apigatewayv2_integration" "function" {
  count                  = local.n
  api_id                 = aws_apigatewayv2_api.registry[0].id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.registry[0].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.timeout * 1000
}

resource "aws_apigatewayv2_route" "token" {
  count              = local.n
  api_id             = aws_apigatewayv2_api.registry[0].id
  route_key          = "GET /token"
  authorization_type = "AWS_IAM"
  target             = "integrations/${aws_apigatewayv2_integration.function[0].id}"
}

resource "aws_apigatewayv2_route" "default" {
  #checkov:skip=CKV_AWS_309:Terraform cannot sign requests; the registry authenticates bearer tokens on every route itself (deny by default), and GET /token has AWS_IAM.
  count              = local.n
  api_id             = aws_apigatewayv2_api.registry[0].id
  route_key          = "$default"
  authorization_type = "NONE"
  target             = "integrations/${aws_apigatewayv2_integration.function[0].id}"
}

resource "aws_apigatewayv2_stage" "default" {
  count       = local.n
  api_id      = aws_apigatewayv2_api.registry[0].id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttling.rate_limit
    throttling_burst_limit = var.throttling.burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api[0].arn
    format = jsonencode({
      requestId = "$context.requestId"
      ip        = "$context.identity.sourceIp"
      caller    = "$context.identity.userArn"
      method    = "$context.httpMethod"
      path      = "$context.path"
      status    = "$context.status"
      latency   = "$context.responseLatency"
      error     = "$context.integrationErrorMessage"
      time      = "$context.requestTime"
    })
  }

  tags = merge(local.tags, var.api_tags)
}
