# Plan-level tests of the deployment module, offline: the AWS provider is mocked (its schema comes
# from the local provider mirror, scripts/validate-terraform.sh), so nothing is created and no
# credentials are needed. `terraform test` in packaging/terraform after `terraform init`.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  lambda_zip      = "tests/fixture.zip"
  archive_buckets = ["module-archives"]
}

run "defaults" {
  command = plan

  assert {
    condition     = length(aws_lambda_function.registry) == 1 && aws_lambda_function.registry[0].architectures == tolist(["x86_64"])
    error_message = "one x86_64 function by default"
  }
  assert {
    condition     = aws_lambda_function.registry[0].runtime == "provided.al2023" && aws_lambda_function.registry[0].handler == "bootstrap"
    error_message = "runtime provided.al2023, handler bootstrap"
  }
  assert {
    condition     = aws_lambda_function.registry[0].filename == "tests/fixture.zip" && aws_lambda_function.registry[0].s3_bucket == null
    error_message = "the zip from the local file"
  }
  assert {
    condition     = aws_lambda_function.registry[0].reserved_concurrent_executions == -1
    error_message = "no reserved concurrency by default"
  }
  assert {
    condition     = length(aws_iam_role.function) == 1 && length(aws_iam_role_policy.function) == 1 && aws_iam_role.function[0].name == "tfreg-function" && aws_iam_role.function[0].permissions_boundary == null
    error_message = "a role tfreg-function with its policy and no boundary"
  }
  assert {
    condition     = length(aws_kms_key.registry) == 1 && length(aws_kms_alias.registry) == 1 && aws_kms_alias.registry[0].name == "alias/tfreg"
    error_message = "a KMS key with alias/tfreg"
  }
  assert {
    condition     = aws_cloudwatch_log_group.function[0].name == "/aws/lambda/tfreg" && aws_cloudwatch_log_group.function[0].retention_in_days == 365
    error_message = "function log group with 365 days"
  }
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.registry)) == toset(["errors", "throttles", "api-5xx", "p99-latency"])
    error_message = "four alarms by default"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.registry["p99-latency"].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.registry["p99-latency"].threshold == 2000
    error_message = "the latency alarm is on p99, 2000 ms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.registry["api-5xx"].metric_name == "5xx" && aws_cloudwatch_metric_alarm.registry["api-5xx"].namespace == "AWS/ApiGateway"
    error_message = "the 5xx alarm is on the API's 5xx metric"
  }
  assert {
    condition     = length(aws_cloudwatch_dashboard.registry) == 0
    error_message = "no dashboard unless asked for"
  }
  assert {
    condition     = aws_dynamodb_table.registry[0].tags["app"] == "tfreg" && aws_dynamodb_table.registry[0].deletion_protection_enabled
    error_message = "table tagged app=tfreg, deletion protection on"
  }
  assert {
    condition     = output.table_name == "tfreg" && output.function_name == "tfreg" && output.function_log_group_name == "/aws/lambda/tfreg" && output.api_log_group_name == "/aws/apigateway/tfreg"
    error_message = "composition outputs"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = (length(aws_lambda_function.registry) + length(aws_iam_role.function) + length(aws_kms_key.registry) +
      length(aws_dynamodb_table.registry) + length(aws_apigatewayv2_api.registry) + length(aws_cloudwatch_log_group.function) +
    length(aws_cloudwatch_metric_alarm.registry) + length(aws_lambda_permission.api)) == 0
    error_message = "create = false must create nothing"
  }
  assert {
    condition     = output.function_arn == null && output.role_arn == null && output.table_arn == null && output.api_id == null && output.registry_url == null
    error_message = "every output is null with create = false"
  }
}

run "guardrails_role_path_and_boundary" {
  command = plan

  variables {
    role_path                 = "/service/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
    role_name                 = "registry-exec"
    role_tags                 = { "owner" = "platform" }
    tags                      = { "cost-center" = "42" }
  }

  assert {
    condition     = aws_iam_role.function[0].path == "/service/" && aws_iam_role.function[0].permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    error_message = "role path and permissions boundary are set on the role"
  }
  assert {
    condition     = aws_iam_role.function[0].name == "registry-exec"
    error_message = "role_name names the role"
  }
  assert {
    condition     = aws_iam_role.function[0].tags == tomap({ "app" = "tfreg", "cost-center" = "42", "owner" = "platform" })
    error_message = "role tags are tags + role_tags"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.registry[0].tags), "owner") && aws_lambda_function.registry[0].tags["cost-center"] == "42"
    error_message = "role_tags stay on the role"
  }
}

run "existing_role_and_key" {
  command = plan

  variables {
    create_role    = false
    role_arn       = "arn:aws:iam::123456789012:role/org/tfreg-exec"
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-123456789012"
  }

  assert {
    condition     = length(aws_iam_role.function) == 0 && length(aws_iam_role_policy.function) == 0
    error_message = "no role and nothing attached to an existing role"
  }
  assert {
    condition     = aws_lambda_function.registry[0].role == "arn:aws:iam::123456789012:role/org/tfreg-exec"
    error_message = "the function uses the existing role"
  }
  assert {
    condition     = length(aws_kms_key.registry) == 0 && length(aws_kms_alias.registry) == 0
    error_message = "no key and no alias with an existing key"
  }
  assert {
    condition     = aws_dynamodb_table.registry[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn && aws_cloudwatch_log_group.api[0].kms_key_id == var.kms_key_arn
    error_message = "the table and the log groups are encrypted with the existing key"
  }
  assert {
    condition     = aws_lambda_function.registry[0].environment[0].variables["IAM_AUTH_KMS_KEY"] == var.kms_key_arn
    error_message = "the function seals tokens with the existing key"
  }
  assert {
    condition     = output.role_arn == var.role_arn && output.kms_key_arn == var.kms_key_arn
    error_message = "outputs name the existing role and key"
  }
}

run "existing_role_missing_arn_is_refused" {
  command = plan

  variables {
    create_role = false
  }

  expect_failures = [aws_lambda_function.registry]
}

run "zip_from_s3" {
  command = plan

  variables {
    lambda_zip        = null
    s3_bucket         = "artifacts-bucket"
    s3_key            = "tfreg/tfreg-lambda-x86_64.zip"
    s3_object_version = "3HL4kqtJlcpXroDTDmJ"
  }

  assert {
    condition = (aws_lambda_function.registry[0].s3_bucket == "artifacts-bucket" && aws_lambda_function.registry[0].s3_key == "tfreg/tfreg-lambda-x86_64.zip" &&
    aws_lambda_function.registry[0].s3_object_version == "3HL4kqtJlcpXroDTDmJ" && aws_lambda_function.registry[0].filename == null)
    error_message = "the zip comes from the S3 object"
  }
}

run "zip_from_both_is_refused" {
  command = plan

  variables {
    s3_bucket = "artifacts-bucket"
    s3_key    = "tfreg.zip"
  }

  expect_failures = [aws_lambda_function.registry]
}

run "zip_from_neither_is_refused" {
  command = plan

  variables {
    lambda_zip = null
  }

  expect_failures = [aws_lambda_function.registry]
}

run "arm64" {
  command = plan

  variables {
    architectures = ["arm64"]
  }

  assert {
    condition     = aws_lambda_function.registry[0].architectures == tolist(["arm64"])
    error_message = "architectures is passed to the function"
  }
}

run "two_architectures_are_refused" {
  command = plan

  variables {
    architectures = ["x86_64", "arm64"]
  }

  expect_failures = [var.architectures]
}

run "deprecated_names_still_work" {
  command = plan

  variables {
    log_retention_days   = 30
    reserved_concurrency = 5
  }

  assert {
    condition     = aws_cloudwatch_log_group.function[0].retention_in_days == 30 && aws_cloudwatch_log_group.api[0].retention_in_days == 30
    error_message = "log_retention_days still sets the retention"
  }
  assert {
    condition     = aws_lambda_function.registry[0].reserved_concurrent_executions == 5
    error_message = "reserved_concurrency still sets the reservation"
  }
  # The deprecation is a warning from check "deprecated_variables", not a failure.
  expect_failures = [check.deprecated_variables]
}

run "upstream_names" {
  command = plan

  variables {
    cloudwatch_log_group_retention_in_days = 90
    reserved_concurrent_executions         = 10
  }

  assert {
    condition     = aws_cloudwatch_log_group.function[0].retention_in_days == 90 && aws_lambda_function.registry[0].reserved_concurrent_executions == 10
    error_message = "upstream-style names set retention and reservation"
  }
}

run "alarms_off_dashboard_on" {
  command = plan

  variables {
    create_alarms    = false
    create_dashboard = true
    alarm_actions    = ["arn:aws:sns:eu-west-1:123456789012:pager"]
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.registry) == 0 && length(aws_cloudwatch_dashboard.registry) == 1
    error_message = "alarms off, dashboard on"
  }
  assert {
    condition     = aws_cloudwatch_dashboard.registry[0].dashboard_name == "tfreg"
    error_message = "the dashboard is named after the registry"
  }
}

run "alarm_actions" {
  command = plan

  variables {
    alarm_actions    = ["arn:aws:sns:eu-west-1:123456789012:pager"]
    alarm_thresholds = { p99_latency_ms = 800 }
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.registry : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:pager"])])
    error_message = "every alarm notifies alarm_actions"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.registry["p99-latency"].threshold == 800 && aws_cloudwatch_metric_alarm.registry["errors"].threshold == 1
    error_message = "thresholds: the given one and the defaults"
  }
}
