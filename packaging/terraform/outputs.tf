output "registry_host" {
  description = "Host name of the registry: module sources start with it (HOST/NAMESPACE/NAME/SYSTEM), and it is the audience of its tokens."
  value       = local.registry_host
}

output "registry_url" {
  description = "Base URL of the registry."
  value       = "https://${local.registry_host}"
}

output "api_endpoint" {
  description = "The HTTP API's own endpoint (disabled when a custom domain is used)."
  value       = aws_apigatewayv2_api.registry.api_endpoint
}

output "table_name" {
  description = "DynamoDB table holding grants and module versions (tfreg grant --table)."
  value       = aws_dynamodb_table.registry.name
}

output "kms_key_arn" {
  description = "KMS key sealing the registry's IAM tokens and encrypting its table and logs."
  value       = aws_kms_key.registry.arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.registry.function_name
}

output "first_grant_command" {
  description = "Set NAMESPACE and ROLE_ARN in the shell, then run with administrator AWS credentials to give that role every permission in the namespace (unset, the shell refuses to run it)."
  value       = "AWS_REGION=${local.region} tfreg grant create --table ${aws_dynamodb_table.registry.name} --namespace \"$${NAMESPACE:?set NAMESPACE to the namespace first}\" --role-arn \"$${ROLE_ARN:?set ROLE_ARN to the role ARN first}\" --download --upload --create-grant --delete-grant"
}

output "install_helper_command" {
  description = "Run once per workstation or CI runner: Terraform then gets registry tokens with the caller's AWS identity."
  value       = "tfreg install-helper --registry ${local.registry_host}"
}
