# Every output is null when create = false (try: the resources have a count).

output "registry_host" {
  description = "Host name of the registry: module sources start with it (HOST/NAMESPACE/NAME/SYSTEM), and it is the audience of its tokens."
  value       = local.create ? local.registry_host : null
}

output "registry_url" {
  description = "Base URL of the registry."
  value       = local.create ? "https://${local.registry_host}" : null
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = try(aws_lambda_function.registry[0].arn, null)
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = try(aws_lambda_function.registry[0].function_name, null)
}

output "function_invoke_arn" {
  description = "Invoke ARN of the Lambda function (for another API Gateway front end)."
  value       = try(aws_lambda_function.registry[0].invoke_arn, null)
}

output "role_arn" {
  description = "ARN of the function's execution role (created here, or role_arn)."
  value       = local.create ? local.role_arn : null
}

output "role_name" {
  description = "Name of the execution role the module created (null with an existing role)."
  value       = try(aws_iam_role.function[0].name, null)
}

output "function_policy_json" {
  description = "The least-privilege policy the function needs: attached to the role the module creates; attach it yourself to an existing role (create_role = false)."
  value       = try(data.aws_iam_policy_document.function[0].json, null)
}

output "table_arn" {
  description = "ARN of the DynamoDB table holding grants and module versions."
  value       = try(aws_dynamodb_table.registry[0].arn, null)
}

output "table_name" {
  description = "DynamoDB table holding grants and module versions (tfreg grant --table)."
  value       = try(aws_dynamodb_table.registry[0].name, null)
}

output "api_id" {
  description = "Id of the HTTP API."
  value       = try(aws_apigatewayv2_api.registry[0].id, null)
}

output "api_execution_arn" {
  description = "Execution ARN of the HTTP API (for IAM policies that allow execute-api:Invoke on GET /token: API_EXECUTION_ARN/*/GET/token)."
  value       = try(aws_apigatewayv2_api.registry[0].execution_arn, null)
}

output "api_endpoint" {
  description = "The HTTP API's own endpoint (disabled when a custom domain is used)."
  value       = try(aws_apigatewayv2_api.registry[0].api_endpoint, null)
}

output "kms_key_arn" {
  description = "KMS key sealing the registry's IAM tokens and encrypting its table and logs (created here, or kms_key_arn)."
  value       = local.create ? local.kms_key_arn : null
}

output "function_log_group_name" {
  description = "CloudWatch log group of the function (its JSON log lines)."
  value       = try(aws_cloudwatch_log_group.function[0].name, null)
}

output "api_log_group_name" {
  description = "CloudWatch log group of the HTTP API's access log."
  value       = try(aws_cloudwatch_log_group.api[0].name, null)
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, by name (errors, throttles, api-5xx, p99-latency); empty without create_alarms."
  value       = { for k, a in aws_cloudwatch_metric_alarm.registry : k => a.arn }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (null without create_dashboard)."
  value       = try(aws_cloudwatch_dashboard.registry[0].dashboard_name, null)
}

output "first_grant_command" {
  description = "Set NAMESPACE and ROLE_ARN in the shell, then run with administrator AWS credentials to give that role every permission in the namespace (unset, the shell refuses to run it)."
  value       = local.create ? "AWS_REGION=${local.region} tfreg grant create --table ${aws_dynamodb_table.registry[0].name} --namespace \"$${NAMESPACE:?set NAMESPACE to the namespace first}\" --role-arn \"$${ROLE_ARN:?set ROLE_ARN to the role ARN first}\" --download --upload --create-grant --delete-grant" : null
}

output "install_helper_command" {
  description = "Run once per workstation or CI runner: Terraform then gets registry tokens with the caller's AWS identity."
  value       = local.create ? "tfreg install-helper --registry ${local.registry_host}" : null
}
