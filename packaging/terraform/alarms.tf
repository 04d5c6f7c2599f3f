# Alarms on what a platform team pages on: the function failing (Errors) or being refused capacity
# (Throttles), clients getting 5xx from the API, and the API's p99 latency. Missing data is "not
# breaching": a registry nobody calls is healthy. Optional dashboard with the same metrics.
locals {
  create_alarms = local.create && var.create_alarms
  alarm_tags    = merge(local.tags, var.alarm_tags)

  function_dimensions = { FunctionName = local.function_name }
  api_dimensions      = { ApiId = try(aws_apigatewayv2_api.registry[0].id, ""), Stage = "$default" }

  alarms = {
    errors = {
      description = "The ${var.name} registry function returned errors (crashed, timed out or failed to start)."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      threshold   = var.alarm_thresholds.errors
    }
    throttles = {
      description = "Invocations of the ${var.name} registry function were throttled (concurrency exhausted)."
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      threshold   = var.alarm_thresholds.throttles
    }
    api-5xx = {
      description = "The ${var.name} registry's HTTP API answered 5xx."
      namespace   = "AWS/ApiGateway"
      metric      = "5xx"
      dimensions  = local.api_dimensions
      statistic   = "Sum"
      threshold   = var.alarm_thresholds.api_5xx
    }
    p99-latency = {
      description = "p99 latency of the ${var.name} registry's HTTP API, milliseconds."
      namespace   = "AWS/ApiGateway"
      metric      = "Latency"
      dimensions  = local.api_dimensions
      statistic   = null
      threshold   = var.alarm_thresholds.p99_latency_ms
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "registry" {
  for_each = local.create_alarms ? local.alarms : {}

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  extended_statistic  = each.value.statistic == null ? "p99" : null
  period              = var.alarm_period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.alarm_tags
}

resource "aws_cloudwatch_dashboard" "registry" {
  count          = local.create && var.create_dashboard ? 1 : 0
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "HTTP API: requests and errors"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/ApiGateway", "Count", "ApiId", local.api_dimensions.ApiId, "Stage", "$default"],
            [".", "4xx", ".", ".", ".", "."],
            [".", "5xx", ".", ".", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "HTTP API: latency (ms)"
          region = local.region
          period = 300
          metrics = [
            ["AWS/ApiGateway", "Latency", "ApiId", local.api_dimensions.ApiId, "Stage", "$default", { stat = "p50" }],
            ["...", { stat = "p99" }],
            [".", "IntegrationLatency", ".", ".", ".", ".", { stat = "p99" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Function: invocations, errors, throttles"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", local.function_name],
            [".", "Errors", ".", "."],
            [".", "Throttles", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Function: duration (ms) and concurrency"
          region = local.region
          period = 300
          metrics = [
            ["AWS/Lambda", "Duration", "FunctionName", local.function_name, { stat = "p99" }],
            [".", "ConcurrentExecutions", ".", ".", { stat = "Maximum", yAxis = "right" }],
          ]
        }
      },
    ]
  })
}
