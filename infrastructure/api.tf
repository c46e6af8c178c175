# An HTTP API whose $default route sends every request to the function
# (payload format 2.0), with JSON access logs and stage throttling.

resource "aws_apigatewayv2_api" "main" {
  name          = local.prefix
  description   = "Icy Morning API (${var.stage})"
  protocol_type = "HTTP"

  dynamic "cors_configuration" {
    for_each = length(var.cors_allow_origins) > 0 ? [1] : []
    content {
      allow_origins     = var.cors_allow_origins
      allow_methods     = var.cors_allow_methods
      allow_headers     = var.cors_allow_headers
      expose_headers    = ["link", "last-modified", "etag", "location"]
      allow_credentials = var.cors_allow_credentials
      max_age           = var.cors_max_age_seconds
    }
  }

  lifecycle {
    precondition {
      condition     = !(var.cors_allow_credentials && contains(var.cors_allow_origins, "*"))
      error_message = "cors_allow_credentials cannot be true while cors_allow_origins contains \"*\"."
    }
  }
}

resource "aws_apigatewayv2_integration" "function" {
  api_id             = aws_apigatewayv2_api.main.id
  description        = "Every request to the ${local.function_name} function"
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  # The "live" alias, which moves to a new version only after its migration.
  integration_uri        = aws_lambda_alias.api.invoke_arn
  payload_format_version = "2.0"
  # Just above the function's own timeout, so the function's error is what the
  # client sees; API Gateway's ceiling is 30 s.
  timeout_milliseconds = min(30000, (var.lambda_timeout_seconds + 1) * 1000)
}

# The $default route catches every method and path, including "/".
resource "aws_apigatewayv2_route" "default" {
  api_id    = aws_apigatewayv2_api.main.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
  # Reads are public by design; writes check HTTP Basic credentials in the
  # function against the Secrets Manager account.
  authorization_type = "NONE"
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${local.prefix}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.main.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
    # Per-route metrics are billed as custom metrics; with one route the
    # API- and stage-level metrics (free) say the same.
    detailed_metrics_enabled = false
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      userAgent          = "$context.identity.userAgent"
      httpMethod         = "$context.httpMethod"
      path               = "$context.path"
      protocol           = "$context.protocol"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      errorMessage       = "$context.error.message"
      domainName         = "$context.domainName"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  qualifier     = aws_lambda_alias.api.name
  principal     = "apigateway.amazonaws.com"
  # This API only (any stage and route: it has one of each).
  source_arn = "${aws_apigatewayv2_api.main.execution_arn}/*/*"
}
