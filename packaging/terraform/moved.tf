# Upgrading from the release before the `create`, `create_role` and `create_kms_key` toggles: the
# resources gained a count, so their addresses gained [0]. These blocks move them in the state, so
# an existing registry plans no replacement (its table, key and API keep their identity).

moved {
  from = aws_lambda_function.registry
  to   = aws_lambda_function.registry[0]
}

moved {
  from = aws_lambda_permission.api
  to   = aws_lambda_permission.api[0]
}

moved {
  from = aws_cloudwatch_log_group.function
  to   = aws_cloudwatch_log_group.function[0]
}

moved {
  from = aws_cloudwatch_log_group.api
  to   = aws_cloudwatch_log_group.api[0]
}

moved {
  from = aws_dynamodb_table.registry
  to   = aws_dynamodb_table.registry[0]
}

moved {
  from = aws_apigatewayv2_api.registry
  to   = aws_apigatewayv2_api.registry[0]
}

moved {
  from = aws_apigatewayv2_integration.function
  to   = aws_apigatewayv2_integration.function[0]
}

moved {
  from = aws_apigatewayv2_route.token
  to   = aws_apigatewayv2_route.token[0]
}

moved {
  from = aws_apigatewayv2_route.default
  to   = aws_apigatewayv2_route.default[0]
}

moved {
  from = aws_apigatewayv2_stage.default
  to   = aws_apigatewayv2_stage.default[0]
}

moved {
  from = aws_iam_role.function
  to   = aws_iam_role.function[0]
}

moved {
  from = aws_iam_role_policy.function
  to   = aws_iam_role_policy.function[0]
}

moved {
  from = aws_kms_key.registry
  to   = aws_kms_key.registry[0]
}

moved {
  from = aws_kms_alias.registry
  to   = aws_kms_alias.registry[0]
}
