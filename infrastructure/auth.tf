# Single sign-on: OpenID Connect bearer tokens (AUTH_TYPE jwt or basic,jwt)
# from an Amazon Cognito user pool created here, or from an external issuer
# given by variables; and, with jwt alone, an optional HTTP API JWT
# authorizer on the protected routes as a second gate. The function verifies
# every token itself either way (never trusting an upstream authorizer alone).

locals {
  jwt_enabled   = var.auth_type != "basic"
  basic_enabled = var.auth_type != "jwt"
  cognito       = var.enable_cognito && local.jwt_enabled

  # The resource server's identifier prefixes its scopes: icy-morning/read
  # and icy-morning/write.
  cognito_resource_server = "icy-morning"
  cognito_write_scope     = "${local.cognito_resource_server}/write"
  cognito_scopes          = ["openid", "email", "${local.cognito_resource_server}/read", local.cognito_write_scope]

  # Prefix domains are unique per Region across all accounts: the account id
  # makes the default one ours.
  cognito_domain_prefix = coalesce(var.cognito_domain_prefix, "${local.prefix}-${local.account_id}")

  # Where Swagger UI lands after the login: the API's own endpoint, and the
  # custom domain when there is one.
  docs_base_urls = concat(
    [aws_apigatewayv2_api.main.api_endpoint],
    local.custom_domain_enabled ? ["https://${coalesce(var.api_gateway_domain, "x.invalid")}"] : [],
    var.enable_cdn ? [local.cdn_url] : [], # the CDN, which people use when it is on (cdn.tf)
  )

  oidc_issuer_url = local.cognito ? "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.main[0].id}" : var.oidc_issuer_url
  # Cognito access tokens carry client_id and no aud.
  oidc_client_ids = local.cognito ? [aws_cognito_user_pool_client.docs[0].id] : var.oidc_client_ids
  docs_client_id  = local.cognito ? aws_cognito_user_pool_client.docs[0].id : var.oidc_docs_client_id

  # Named exactly as the binary reads them (cmd/icy-morning/config.go);
  # nothing here is a secret. Unset values are left out, so the binary's
  # defaults apply.
  jwt_environment = local.jwt_enabled ? merge(
    {
      OIDC_ISSUER_URL  = local.oidc_issuer_url
      OIDC_WRITE_SCOPE = local.cognito ? local.cognito_write_scope : var.oidc_write_scope
    },
    length(local.oidc_client_ids) > 0 ? { OIDC_CLIENT_IDS = join(",", local.oidc_client_ids) } : {},
    !local.cognito && var.oidc_audience != null ? { OIDC_AUDIENCE = var.oidc_audience } : {},
    local.cognito ? { OIDC_GROUPS_CLAIM = "cognito:groups", OIDC_WRITE_GROUP = var.cognito_write_group } : {},
    !local.cognito && var.oidc_groups_claim != null ? { OIDC_GROUPS_CLAIM = var.oidc_groups_claim, OIDC_WRITE_GROUP = var.oidc_write_group } : {},
    # The public client /docs logs in with (authorization code with PKCE).
    local.docs_client_id != null ? { OIDC_DOCS_CLIENT_ID = local.docs_client_id } : {},
  ) : {}

  # AUTH_TYPE only when it is not the binary's default, so a basic
  # deployment's environment stays exactly as before. (BASIC_AUTH_SECRET_ARN
  # is set in function.tf, beside the secret.)
  token_environment = merge(
    local.jwt_enabled ? { AUTH_TYPE = var.auth_type } : {},
    local.jwt_environment,
    var.reads_require_auth ? { READS_REQUIRE_AUTH = "true" } : {},
  )
}

# --- Cognito user pool ---------------------------------------------------------------
# Users are created by an administrator (no self sign-up); they sign in with
# their e-mail address. Essentials tier (the default for new pools): threat
# protection ("advanced security") needs the Plus tier, billed per monthly
# active user with no free tier, so it is off; see the README.

resource "aws_cognito_user_pool" "main" {
  count = local.cognito ? 1 : 0

  name                = local.prefix
  deletion_protection = var.db_deletion_protection ? "ACTIVE" : "INACTIVE"
  user_pool_tier      = "ESSENTIALS"

  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]

  username_configuration {
    case_sensitive = false
  }

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  mfa_configuration = var.cognito_mfa_configuration
  software_token_mfa_configuration {
    enabled = true
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_resource_server" "api" {
  count = local.cognito ? 1 : 0

  user_pool_id = aws_cognito_user_pool.main[0].id
  identifier   = local.cognito_resource_server
  name         = "Icy Morning API (${var.stage})"

  scope {
    scope_name        = "read"
    scope_description = "Read assets, analysts and subscriptions"
  }
  scope {
    scope_name        = "write"
    scope_description = "Create, change and delete; read subscriptions and the delivery log"
  }
}

# Members may write with any token of the pool, including the CLI's
# (admin-initiate-auth), which carry groups but never custom scopes.
resource "aws_cognito_user_group" "writers" {
  count = local.cognito ? 1 : 0

  user_pool_id = aws_cognito_user_pool.main[0].id
  name         = var.cognito_write_group
  description  = "May write to the ${local.prefix} API"
}

# The public client Swagger UI logs in with: no secret (a browser cannot
# keep one), so Cognito requires PKCE on its authorization code flow.
resource "aws_cognito_user_pool_client" "docs" {
  count = local.cognito ? 1 : 0

  name         = "${local.prefix}-docs"
  user_pool_id = aws_cognito_user_pool.main[0].id

  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = local.cognito_scopes
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = [for u in local.docs_base_urls : "${u}/docs/oauth2-redirect.html"]
  logout_urls                          = [for u in local.docs_base_urls : "${u}/docs"]

  # Refresh tokens, and the administrator's password sign-in from the CLI,
  # which needs IAM credentials (no plain USER_PASSWORD_AUTH from anywhere).
  explicit_auth_flows           = ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  access_token_validity  = 60
  id_token_validity      = 60
  refresh_token_validity = 12
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "hours"
  }

  # The scopes name the resource server's.
  depends_on = [aws_cognito_resource_server.api]
}

# The hosted UI (classic, version 1: it needs no branding style) at
# https://<prefix>.auth.<region>.amazoncognito.com.
resource "aws_cognito_user_pool_domain" "main" {
  count = local.cognito ? 1 : 0

  domain                = local.cognito_domain_prefix
  user_pool_id          = aws_cognito_user_pool.main[0].id
  managed_login_version = 1

  lifecycle {
    precondition {
      condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", local.cognito_domain_prefix)) && !can(regex("aws|amazon|cognito", local.cognito_domain_prefix))
      error_message = "The Cognito domain prefix ${local.cognito_domain_prefix} is not allowed (lower-case letters, digits, hyphens; not aws, amazon or cognito): set cognito_domain_prefix."
    }
  }
}

# --- the JWT authorizer (auth_type = "jwt" only) ---------------------------------------
# The protected operations of httpapi/routes.go get routes of their own with
# the authorizer; everything else (reads, /docs, sign-up and unsubscribe
# links) stays on the open $default route. API Gateway matches these exact
# paths only, so it is a second gate: the function checks every request.

locals {
  protected_route_keys = var.enable_api_jwt_authorizer ? toset([
    "POST /api/v1/assets",
    "PUT /api/v1/assets/{id}",
    "PATCH /api/v1/assets/{id}",
    "DELETE /api/v1/assets/{id}",
    "POST /api/v1/analysts",
    "PUT /api/v1/analysts/{id}",
    "PATCH /api/v1/analysts/{id}",
    "DELETE /api/v1/analysts/{id}",
    "GET /api/v1/subscriptions",
    "POST /api/v1/subscriptions",
    "POST /api/v1/assets/subscription",
    "DELETE /api/v1/subscriptions/{id}",
    "GET /api/v1/deliveries",
    "POST /api/v1/deliveries/{id}/retry",
  ]) : toset([])

  # HTTP API's authorizer accepts a token whose aud, or else client_id,
  # is in this list.
  authorizer_audience = concat(local.cognito || var.oidc_audience == null ? [] : [var.oidc_audience], local.oidc_client_ids)

  # The gateway demands the write scope only when no group can grant the
  # permission instead (a group member's token may lack the scope).
  authorizer_scopes = local.cognito || var.oidc_groups_claim != null ? [] : [var.oidc_write_scope]
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count = var.enable_api_jwt_authorizer ? 1 : 0

  api_id           = aws_apigatewayv2_api.main.id
  name             = "${local.prefix}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = local.oidc_issuer_url
    audience = local.authorizer_audience
  }
}

resource "aws_apigatewayv2_route" "protected" {
  for_each = local.protected_route_keys

  api_id               = aws_apigatewayv2_api.main.id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.function.id}"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.jwt[0].id
  authorization_scopes = local.authorizer_scopes
}
