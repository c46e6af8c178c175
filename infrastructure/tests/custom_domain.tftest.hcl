# The custom domain: certificate imported into ACM from certificates_dir,
# regional domain name with TLS 1.2, mapped to the $default stage.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
  certificates_dir   = "tests/fixtures/certs"
}

run "custom_domain_on" {
  command = plan

  variables {
    enable_custom_domain         = true
    api_gateway_domain           = "api.example.com"
    api_gateway_certificate_name = "icy-morning-api"
  }

  assert {
    condition     = length(aws_acm_certificate.api) == 1 && aws_acm_certificate.api[0].tags.Name == "icy-morning-api"
    error_message = "The certificate must be imported and named after api_gateway_certificate_name."
  }
  assert {
    condition     = aws_acm_certificate.api[0].certificate_body == file("tests/fixtures/certs/certificate.crt") && aws_acm_certificate.api[0].certificate_chain == file("tests/fixtures/certs/ca.crt")
    error_message = "The certificate files must come from certificates_dir."
  }
  assert {
    condition = (
      aws_apigatewayv2_domain_name.api[0].domain_name == "api.example.com" &&
      aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].endpoint_type == "REGIONAL" &&
      aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].security_policy == "TLS_1_2" &&
      aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].certificate_arn == aws_acm_certificate.api[0].arn
    )
    error_message = "The domain must be regional, TLS 1.2, with the imported certificate."
  }
  assert {
    condition     = aws_apigatewayv2_api_mapping.api[0].api_id == aws_apigatewayv2_api.main.id && aws_apigatewayv2_api_mapping.api[0].stage == aws_apigatewayv2_stage.default.id
    error_message = "The domain must map to the API's $default stage."
  }
  assert {
    condition     = output.custom_domain_url == "https://api.example.com/"
    error_message = "custom_domain_url must name the domain."
  }
}

run "certificate_name_defaults_to_domain" {
  command = plan

  variables {
    enable_custom_domain = true
    api_gateway_domain   = "api.example.com"
  }

  assert {
    condition     = aws_acm_certificate.api[0].tags.Name == "api.example.com"
    error_message = "Without api_gateway_certificate_name the certificate is named after the domain."
  }
}

run "custom_domain_needs_a_domain" {
  command = plan

  variables {
    enable_custom_domain = true
  }

  expect_failures = [aws_acm_certificate.api]
}

run "cors_when_origins_are_given" {
  command = plan

  variables {
    cors_allow_origins     = ["https://app.example.com"]
    cors_allow_credentials = true
  }

  assert {
    condition     = aws_apigatewayv2_api.main.cors_configuration[0].allow_origins == toset(["https://app.example.com"]) && aws_apigatewayv2_api.main.cors_configuration[0].allow_credentials
    error_message = "CORS must follow the variables."
  }
}
