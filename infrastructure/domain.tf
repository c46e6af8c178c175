# Optional custom domain, switched on by enable_custom_domain. The certificate,
# its key and the CA chain are PEM files under certificates_dir (certs/ by
# default; git ignores everything there but its README), imported into ACM.
# The files are read only when the domain is enabled.

locals {
  custom_domain_enabled = var.enable_custom_domain
  certificate_name      = coalesce(var.api_gateway_certificate_name, var.api_gateway_domain, "none")
}

resource "aws_acm_certificate" "api" {
  count = local.custom_domain_enabled ? 1 : 0

  certificate_body  = file("${var.certificates_dir}/certificate.crt")
  private_key       = file("${var.certificates_dir}/certificate.key")
  certificate_chain = file("${var.certificates_dir}/ca.crt")

  tags = { Name = local.certificate_name }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.api_gateway_domain != null
      error_message = "enable_custom_domain needs api_gateway_domain."
    }
  }
}

resource "aws_apigatewayv2_domain_name" "api" {
  count = local.custom_domain_enabled ? 1 : 0

  domain_name = var.api_gateway_domain

  domain_name_configuration {
    certificate_arn = aws_acm_certificate.api[0].arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
}

resource "aws_apigatewayv2_api_mapping" "api" {
  count = local.custom_domain_enabled ? 1 : 0

  api_id      = aws_apigatewayv2_api.main.id
  domain_name = aws_apigatewayv2_domain_name.api[0].id
  stage       = aws_apigatewayv2_stage.default.id
}
