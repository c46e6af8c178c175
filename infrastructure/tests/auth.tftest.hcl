# Single sign-on (auth.tf): auth_type basic as before, jwt with a Cognito user
# pool or an external issuer, basic,jwt, the JWT authorizer's routes, and the
# combinations the variables refuse.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
}

run "basic_is_unchanged" {
  command = plan

  assert {
    condition     = length(aws_secretsmanager_secret.basic_auth) == 1 && length(aws_secretsmanager_secret_version.basic_auth) == 1
    error_message = "auth_type basic keeps the Basic auth secret."
  }
  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker] :
      fn.environment[0].variables.BASIC_AUTH_SECRET_ARN == aws_secretsmanager_secret.basic_auth[0].arn &&
      length([for k in keys(fn.environment[0].variables) : k if k == "AUTH_TYPE" || k == "READS_REQUIRE_AUTH" || startswith(k, "OIDC_")]) == 0
    ])
    error_message = "auth_type basic sets BASIC_AUTH_SECRET_ARN and neither AUTH_TYPE, READS_REQUIRE_AUTH nor any OIDC_* variable."
  }
  assert {
    condition     = length(aws_cognito_user_pool.main) == 0 && length(aws_cognito_user_pool_client.docs) == 0 && length(aws_cognito_user_pool_domain.main) == 0 && length(aws_cognito_resource_server.api) == 0
    error_message = "No Cognito without enable_cognito."
  }
  assert {
    condition     = length(aws_apigatewayv2_authorizer.jwt) == 0 && length(aws_apigatewayv2_route.protected) == 0
    error_message = "No JWT authorizer or extra routes by default."
  }
  assert {
    condition     = output.oidc_issuer_url == null && output.cognito_docs_client_id == null && output.basic_auth_secret_arn == aws_secretsmanager_secret.basic_auth[0].arn
    error_message = "Outputs of a basic deployment."
  }
}

run "private_reads" {
  command = plan
  variables {
    reads_require_auth = true
  }

  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker] :
      fn.environment[0].variables.READS_REQUIRE_AUTH == "true" &&
      fn.environment[0].variables.BASIC_AUTH_SECRET_ARN == aws_secretsmanager_secret.basic_auth[0].arn
    ])
    error_message = "reads_require_auth hands READS_REQUIRE_AUTH=true to the functions."
  }
}

run "jwt_with_cognito" {
  command = plan
  variables {
    auth_type          = "jwt"
    enable_cognito     = true
    enable_nat_gateway = true
  }

  assert {
    condition = (
      aws_cognito_user_pool.main[0].deletion_protection == "ACTIVE" &&
      aws_cognito_user_pool.main[0].mfa_configuration == "OPTIONAL" &&
      aws_cognito_user_pool.main[0].software_token_mfa_configuration[0].enabled &&
      aws_cognito_user_pool.main[0].admin_create_user_config[0].allow_admin_create_user_only
    )
    error_message = "The pool follows the stage's deletion protection, offers MFA and has no self sign-up."
  }
  assert {
    condition = (
      aws_cognito_user_pool.main[0].password_policy[0].minimum_length >= 12 &&
      aws_cognito_user_pool.main[0].password_policy[0].require_lowercase &&
      aws_cognito_user_pool.main[0].password_policy[0].require_uppercase &&
      aws_cognito_user_pool.main[0].password_policy[0].require_numbers &&
      aws_cognito_user_pool.main[0].password_policy[0].require_symbols
    )
    error_message = "The pool needs a strong password policy."
  }
  assert {
    condition     = aws_cognito_resource_server.api[0].identifier == "icy-morning" && toset([for s in aws_cognito_resource_server.api[0].scope : s.scope_name]) == toset(["read", "write"])
    error_message = "The resource server is icy-morning with the scopes read and write."
  }
  assert {
    condition = (
      aws_cognito_user_pool_client.docs[0].generate_secret == false &&
      aws_cognito_user_pool_client.docs[0].allowed_oauth_flows_user_pool_client &&
      toset(aws_cognito_user_pool_client.docs[0].allowed_oauth_flows) == toset(["code"]) &&
      toset(aws_cognito_user_pool_client.docs[0].allowed_oauth_scopes) == toset(["openid", "email", "icy-morning/read", "icy-morning/write"]) &&
      toset(aws_cognito_user_pool_client.docs[0].supported_identity_providers) == toset(["COGNITO"])
    )
    error_message = "The docs client is public and uses the authorization code flow (PKCE) with the API's scopes."
  }
  assert {
    condition     = toset(aws_cognito_user_pool_client.docs[0].callback_urls) == toset(["https://mockapi.execute-api.eu-west-1.amazonaws.com/docs/oauth2-redirect.html"])
    error_message = "The docs client lands on /docs/oauth2-redirect.html of the API."
  }
  assert {
    condition     = !contains(aws_cognito_user_pool_client.docs[0].explicit_auth_flows, "ALLOW_USER_PASSWORD_AUTH")
    error_message = "No unauthenticated password sign-in on the public client."
  }
  assert {
    condition     = aws_cognito_user_pool_domain.main[0].domain == "icy-morning-dev-123456789012" && aws_cognito_user_pool_domain.main[0].user_pool_id == aws_cognito_user_pool.main[0].id
    error_message = "The hosted UI has a prefix domain from the stage's names."
  }
  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker] :
      fn.environment[0].variables.AUTH_TYPE == "jwt" &&
      fn.environment[0].variables.OIDC_ISSUER_URL == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_MockPool1" &&
      fn.environment[0].variables.OIDC_CLIENT_IDS == "mockdocsclientid0123456789" &&
      fn.environment[0].variables.OIDC_DOCS_CLIENT_ID == "mockdocsclientid0123456789" &&
      fn.environment[0].variables.OIDC_WRITE_SCOPE == "icy-morning/write" &&
      fn.environment[0].variables.OIDC_GROUPS_CLAIM == "cognito:groups" &&
      fn.environment[0].variables.OIDC_WRITE_GROUP == "writers" &&
      !contains(keys(fn.environment[0].variables), "OIDC_AUDIENCE")
    ])
    error_message = "The functions verify tokens of the pool: issuer, docs client id (Cognito access tokens carry no aud; and /docs logs in with it), write scope and group."
  }
  assert {
    condition     = length(aws_secretsmanager_secret.basic_auth) == 0 && length(aws_secretsmanager_secret_version.basic_auth) == 0 && !contains(keys(aws_lambda_function.api.environment[0].variables), "BASIC_AUTH_SECRET_ARN") && !contains(keys(aws_lambda_function.worker.environment[0].variables), "BASIC_AUTH_SECRET_ARN")
    error_message = "jwt alone has no Basic auth secret."
  }
  assert {
    condition     = !anytrue([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Sid == "ReadOwnSecrets" && length([for r in s.Resource : r if strcontains(r, "basic-auth")]) > 0])
    error_message = "Without the Basic secret the role reads no such secret."
  }
  assert {
    condition = (
      output.oidc_issuer_url == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_MockPool1" &&
      output.cognito_docs_client_id == "mockdocsclientid0123456789" &&
      output.cognito_hosted_ui_url == "https://icy-morning-dev-123456789012.auth.eu-west-1.amazoncognito.com" &&
      output.basic_auth_secret_arn == null
    )
    error_message = "Outputs: issuer, docs client id and hosted UI."
  }
}

run "cognito_on_a_throwaway_stage_with_a_custom_domain" {
  command = plan
  variables {
    auth_type              = "basic,jwt"
    enable_cognito         = true
    enable_nat_gateway     = true
    db_deletion_protection = false
    db_skip_final_snapshot = true
    enable_custom_domain   = true
    api_gateway_domain     = "api.example.com"
    certificates_dir       = "tests/fixtures/certs"
  }

  assert {
    condition     = aws_cognito_user_pool.main[0].deletion_protection == "INACTIVE"
    error_message = "A stage without deletion protection has a deletable pool."
  }
  assert {
    condition = toset(aws_cognito_user_pool_client.docs[0].callback_urls) == toset([
      "https://mockapi.execute-api.eu-west-1.amazonaws.com/docs/oauth2-redirect.html",
      "https://api.example.com/docs/oauth2-redirect.html",
    ])
    error_message = "The custom domain's docs are a callback too."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.AUTH_TYPE == "basic,jwt" && aws_lambda_function.api.environment[0].variables.BASIC_AUTH_SECRET_ARN == aws_secretsmanager_secret.basic_auth[0].arn
    error_message = "basic,jwt keeps the Basic secret beside the tokens."
  }
}

run "jwt_with_an_external_issuer" {
  command = plan
  variables {
    auth_type           = "jwt"
    enable_nat_gateway  = true
    oidc_issuer_url     = "https://login.example.com/realms/icy"
    oidc_audience       = "icy-morning-api"
    oidc_client_ids     = ["cli", "swagger"]
    oidc_write_scope    = "api:write"
    oidc_groups_claim   = "groups"
    oidc_write_group    = "icy-writers"
    oidc_docs_client_id = "swagger"
  }

  assert {
    condition = alltrue([for k, v in {
      AUTH_TYPE           = "jwt"
      OIDC_ISSUER_URL     = "https://login.example.com/realms/icy"
      OIDC_AUDIENCE       = "icy-morning-api"
      OIDC_CLIENT_IDS     = "cli,swagger"
      OIDC_WRITE_SCOPE    = "api:write"
      OIDC_GROUPS_CLAIM   = "groups"
      OIDC_WRITE_GROUP    = "icy-writers"
      OIDC_DOCS_CLIENT_ID = "swagger"
    } : lookup(aws_lambda_function.api.environment[0].variables, k, null) == v])
    error_message = "The environment carries the external issuer's settings as given."
  }
  assert {
    condition     = length(aws_cognito_user_pool.main) == 0 && length(aws_secretsmanager_secret.basic_auth) == 0
    error_message = "No pool and no Basic secret with an external issuer and jwt."
  }
}

run "basic_and_jwt_external_minimal" {
  command = plan
  variables {
    auth_type          = "basic,jwt"
    enable_nat_gateway = true
    oidc_issuer_url    = "https://example.okta.com/oauth2/default"
    oidc_audience      = "api://icy-morning"
  }

  assert {
    condition = (
      aws_lambda_function.api.environment[0].variables.AUTH_TYPE == "basic,jwt" &&
      aws_lambda_function.api.environment[0].variables.BASIC_AUTH_SECRET_ARN == aws_secretsmanager_secret.basic_auth[0].arn &&
      aws_lambda_function.api.environment[0].variables.OIDC_AUDIENCE == "api://icy-morning" &&
      aws_lambda_function.api.environment[0].variables.OIDC_WRITE_SCOPE == "icy-morning/write"
    )
    error_message = "basic,jwt: both the Basic secret and the issuer's settings."
  }
  assert {
    condition     = length([for k in keys(aws_lambda_function.api.environment[0].variables) : k if contains(["OIDC_CLIENT_IDS", "OIDC_GROUPS_CLAIM", "OIDC_WRITE_GROUP", "OIDC_DOCS_CLIENT_ID"], k)]) == 0
    error_message = "Unset optional settings stay out of the environment (the binary's defaults apply)."
  }
}

run "authorizer_on_the_protected_routes" {
  command = plan
  variables {
    auth_type                 = "jwt"
    enable_cognito            = true
    enable_nat_gateway        = true
    enable_api_jwt_authorizer = true
  }

  assert {
    condition = (
      aws_apigatewayv2_authorizer.jwt[0].authorizer_type == "JWT" &&
      aws_apigatewayv2_authorizer.jwt[0].jwt_configuration[0].issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_MockPool1" &&
      toset(aws_apigatewayv2_authorizer.jwt[0].jwt_configuration[0].audience) == toset(["mockdocsclientid0123456789"]) &&
      toset(aws_apigatewayv2_authorizer.jwt[0].identity_sources) == toset(["$request.header.Authorization"])
    )
    error_message = "The authorizer checks the pool's tokens for the docs client from the Authorization header."
  }
  assert {
    condition = toset(keys(aws_apigatewayv2_route.protected)) == toset([
      "POST /api/v1/assets", "PUT /api/v1/assets/{id}", "PATCH /api/v1/assets/{id}", "DELETE /api/v1/assets/{id}",
      "POST /api/v1/analysts", "PUT /api/v1/analysts/{id}", "PATCH /api/v1/analysts/{id}", "DELETE /api/v1/analysts/{id}",
      "GET /api/v1/subscriptions", "POST /api/v1/subscriptions", "POST /api/v1/assets/subscription", "DELETE /api/v1/subscriptions/{id}",
      "GET /api/v1/deliveries", "POST /api/v1/deliveries/{id}/retry",
    ])
    error_message = "Every write, the subscription list and the delivery log, and nothing else, go through the authorizer."
  }
  assert {
    condition = alltrue([for r in aws_apigatewayv2_route.protected :
      r.authorization_type == "JWT" && r.authorizer_id == "mockauthz" && r.target == "integrations/mockinteg" && aws_apigatewayv2_route.default.target == "integrations/mockinteg" && length(coalesce(r.authorization_scopes, [])) == 0
    ])
    error_message = "The protected routes reach the same integration through the authorizer (no scope at the gateway: the writers group may write without it)."
  }
  assert {
    condition     = aws_apigatewayv2_route.default.route_key == "$default" && aws_apigatewayv2_route.default.authorization_type == "NONE"
    error_message = "Reads, /docs and the sign-up links stay open."
  }
}

run "authorizer_demands_the_write_scope_without_groups" {
  command = plan
  variables {
    auth_type                 = "jwt"
    enable_nat_gateway        = true
    enable_api_jwt_authorizer = true
    oidc_issuer_url           = "https://login.example.com"
    oidc_audience             = "icy"
    oidc_client_ids           = ["swagger"]
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.protected : toset(r.authorization_scopes) == toset(["icy-morning/write"])])
    error_message = "Without a groups claim the gateway demands the write scope."
  }
  assert {
    condition     = toset(aws_apigatewayv2_authorizer.jwt[0].jwt_configuration[0].audience) == toset(["icy", "swagger"])
    error_message = "The authorizer accepts the audience and the client ids."
  }
}

# --- refused combinations -------------------------------------------------------------

run "unknown_auth_type" {
  command = plan
  variables {
    auth_type = "oauth"
  }
  expect_failures = [var.auth_type]
}

run "jwt_without_nat" {
  command = plan
  variables {
    auth_type       = "jwt"
    oidc_issuer_url = "https://login.example.com"
    oidc_audience   = "icy"
  }
  expect_failures = [var.auth_type]
}

run "jwt_without_issuer" {
  command = plan
  variables {
    auth_type          = "jwt"
    enable_nat_gateway = true
    oidc_audience      = "icy"
  }
  expect_failures = [var.oidc_issuer_url]
}

run "issuer_without_audience" {
  command = plan
  variables {
    auth_type          = "jwt"
    enable_nat_gateway = true
    oidc_issuer_url    = "https://login.example.com"
  }
  expect_failures = [var.oidc_client_ids]
}

run "plain_http_issuer" {
  command = plan
  variables {
    auth_type          = "jwt"
    enable_nat_gateway = true
    oidc_issuer_url    = "http://login.example.com"
    oidc_audience      = "icy"
  }
  expect_failures = [var.oidc_issuer_url]
}

run "cognito_and_external_issuer" {
  command = plan
  variables {
    auth_type          = "jwt"
    enable_cognito     = true
    enable_nat_gateway = true
    oidc_issuer_url    = "https://login.example.com"
  }
  expect_failures = [var.oidc_issuer_url]
}

run "cognito_with_basic" {
  command = plan
  variables {
    enable_cognito = true
  }
  expect_failures = [var.enable_cognito]
}

run "authorizer_with_basic_and_jwt" {
  command = plan
  variables {
    auth_type                 = "basic,jwt"
    enable_cognito            = true
    enable_nat_gateway        = true
    enable_api_jwt_authorizer = true
  }
  expect_failures = [var.enable_api_jwt_authorizer]
}

run "authorizer_with_basic" {
  command = plan
  variables {
    enable_api_jwt_authorizer = true
  }
  expect_failures = [var.enable_api_jwt_authorizer]
}

run "group_without_claim" {
  command = plan
  variables {
    auth_type          = "jwt"
    enable_nat_gateway = true
    oidc_issuer_url    = "https://login.example.com"
    oidc_audience      = "icy"
    oidc_write_group   = "writers"
  }
  expect_failures = [var.oidc_write_group]
}

run "reserved_word_in_domain_prefix" {
  command = plan
  variables {
    auth_type             = "jwt"
    enable_cognito        = true
    enable_nat_gateway    = true
    cognito_domain_prefix = "icy-cognito-login"
  }
  expect_failures = [var.cognito_domain_prefix]
}
