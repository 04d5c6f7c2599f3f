# Optional custom host name: a regional API Gateway domain with an ACM certificate (given, or
# requested here and validated through Route 53), and the alias record when a zone is given.
locals {
  request_certificate = local.create && local.custom_domain && var.certificate_arn == null
}

resource "aws_acm_certificate" "registry" {
  count             = local.request_certificate ? 1 : 0
  domain_name       = var.domain_name
  validation_method = "DNS"
  tags              = local.tags

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.route53_zone_id != null
      error_message = "With domain_name and no certificate_arn, route53_zone_id is needed to validate the certificate the module requests."
    }
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = local.request_certificate ? {
    for o in aws_acm_certificate.registry[0].domain_validation_options : o.domain_name => o
  } : {}
  zone_id         = var.route53_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "registry" {
  count                   = local.request_certificate ? 1 : 0
  certificate_arn         = aws_acm_certificate.registry[0].arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_apigatewayv2_domain_name" "registry" {
  count       = local.create && local.custom_domain ? 1 : 0
  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn = local.request_certificate ? aws_acm_certificate_validation.registry[0].certificate_arn : var.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = merge(local.tags, var.api_tags)
}

resource "aws_apigatewayv2_api_mapping" "registry" {
  count       = local.create && local.custom_domain ? 1 : 0
  api_id      = aws_apigatewayv2_api.registry[0].id
  domain_name = aws_apigatewayv2_domain_name.registry[0].id
  stage       = aws_apigatewayv2_stage.default[0].id
}

resource "aws_route53_record" "registry" {
  count   = local.create && local.custom_domain && var.route53_zone_id != null ? 1 : 0
  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_apigatewayv2_domain_name.registry[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.registry[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
