# The optional CloudFront distribution (cdn.tf): nothing of it by default;
# with enable_cdn the distribution's origin, header, policies, behaviours and
# logs, the functions' environment and permissions exactly as the binary's
# contract says, the cache settings, and the combinations the variables
# refuse.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
}

override_resource {
  target          = aws_cloudfront_distribution.main[0]
  override_during = plan
  values = {
    id          = "E2MOCKDISTRIB"
    arn         = "arn:aws:cloudfront::123456789012:distribution/E2MOCKDISTRIB"
    domain_name = "d111111abcdef8.cloudfront.net"
  }
}

override_resource {
  target          = aws_secretsmanager_secret.cdn_origin[0]
  override_during = plan
  values          = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:icy-morning-dev/cdn-origin-StUvWx" }
}

override_resource {
  target          = aws_cloudfront_cache_policy.api[0]
  override_during = plan
  values          = { id = "mock-cache-policy" }
}

override_resource {
  target          = aws_cloudfront_origin_request_policy.api[0]
  override_during = plan
  values          = { id = "mock-origin-request-policy" }
}

override_resource {
  target          = aws_cloudfront_response_headers_policy.security[0]
  override_during = plan
  values          = { id = "mock-response-headers-policy" }
}

override_resource {
  target          = aws_s3_bucket.cdn_logs[0]
  override_during = plan
  values = {
    arn                = "arn:aws:s3:::icy-morning-dev-cdn-logs-123456789012-eu-west-1"
    bucket_domain_name = "icy-morning-dev-cdn-logs-123456789012-eu-west-1.s3.amazonaws.com"
  }
}

run "cdn_off_by_default" {
  command = plan

  assert {
    condition = (
      length(aws_cloudfront_distribution.main) == 0 && length(aws_cloudfront_cache_policy.api) == 0 &&
      length(aws_cloudfront_origin_request_policy.api) == 0 && length(aws_cloudfront_response_headers_policy.security) == 0 &&
      length(aws_s3_bucket.cdn_logs) == 0 && length(aws_secretsmanager_secret.cdn_origin) == 0 &&
      length(aws_secretsmanager_secret_version.cdn_origin) == 0 && length(terraform_data.cdn_origin_secret_version) == 0
    )
    error_message = "No distribution, policy, log bucket or origin secret without enable_cdn."
  }
  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker, aws_lambda_function.migrate] :
      length([for k in keys(fn.environment[0].variables) : k if startswith(k, "CDN_") || startswith(k, "CACHE_")]) == 0
    ])
    error_message = "Without the CDN and with the binary's cache defaults, no function gets CDN_* or CACHE_* variables."
  }
  assert {
    condition = alltrue(flatten([
      for p in [aws_iam_role_policy.function.policy, aws_iam_role_policy.worker.policy, aws_iam_role_policy.migrate.policy] : [
        for s in jsondecode(p).Statement : [for a in flatten([s.Action]) : !startswith(a, "cloudfront:")]
      ]
    ]))
    error_message = "Without the CDN no role may do anything in CloudFront."
  }
  assert {
    condition = (
      length([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "ReadCdnOriginSecret"]) == 0 &&
      length([for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s if s.Sid == "InvalidateOwnDistribution"]) == 0
    )
    error_message = "Without the CDN neither role gets the CDN's statements."
  }
  assert {
    condition     = length([for s in jsondecode(aws_kms_key.main.policy).Statement : s if s.Sid == "CloudFrontLogDeliveryEncryptsTheLogBucket"]) == 0
    error_message = "Without the CDN the key policy has no statement for CloudFront's log delivery."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.PUBLIC_BASE_URL == "https://mockapi.execute-api.eu-west-1.amazonaws.com/"
    error_message = "Without the CDN, links lead to API Gateway's endpoint."
  }
  assert {
    condition     = output.cdn_url == null && output.cdn_distribution_id == null
    error_message = "The CDN outputs are null without the CDN."
  }
}

run "distribution_in_front_of_the_api" {
  command = plan

  variables {
    enable_cdn = true
  }

  assert {
    condition = (
      one(aws_cloudfront_distribution.main[0].origin).domain_name == "mockapi.execute-api.eu-west-1.amazonaws.com" &&
      one(aws_cloudfront_distribution.main[0].origin).origin_id == "api" &&
      one(aws_cloudfront_distribution.main[0].origin).custom_origin_config[0].origin_protocol_policy == "https-only" &&
      one(aws_cloudfront_distribution.main[0].origin).custom_origin_config[0].origin_ssl_protocols == toset(["TLSv1.2"])
    )
    error_message = "The origin is the HTTP API's host (no scheme), over HTTPS with TLS 1.2 only."
  }
  assert {
    condition = (
      [for h in one(aws_cloudfront_distribution.main[0].origin).custom_header : h.name] == ["X-Origin-Verify"] &&
      nonsensitive(one(one(aws_cloudfront_distribution.main[0].origin).custom_header).value == aws_secretsmanager_secret_version.cdn_origin[0].secret_string) &&
      nonsensitive(aws_secretsmanager_secret_version.cdn_origin[0].secret_string == "MockGeneratedPasswordForPlansOnly")
    )
    error_message = "CloudFront sends the origin secret's value in X-Origin-Verify, and nothing else."
  }
  assert {
    condition = (
      aws_cloudfront_distribution.main[0].default_cache_behavior[0].allowed_methods == toset(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]) &&
      aws_cloudfront_distribution.main[0].default_cache_behavior[0].cached_methods == toset(["GET", "HEAD"]) &&
      aws_cloudfront_distribution.main[0].default_cache_behavior[0].cache_policy_id == "mock-cache-policy" &&
      aws_cloudfront_distribution.main[0].default_cache_behavior[0].origin_request_policy_id == "mock-origin-request-policy" &&
      aws_cloudfront_distribution.main[0].default_cache_behavior[0].response_headers_policy_id == "mock-response-headers-policy" &&
      aws_cloudfront_distribution.main[0].default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https" &&
      aws_cloudfront_distribution.main[0].default_cache_behavior[0].compress
    )
    error_message = "The default behaviour passes every method, caches GET and HEAD with our cache, origin request and response headers policies, over HTTPS."
  }
  assert {
    condition = [for b in aws_cloudfront_distribution.main[0].ordered_cache_behavior : {
      path    = b.path_pattern, cache = b.cache_policy_id, origin = b.origin_request_policy_id, headers = b.response_headers_policy_id,
      methods = b.allowed_methods == toset(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]), https = b.viewer_protocol_policy == "redirect-to-https"
      }] == [
      { path = "/api/v1/subscriptions*", cache = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", origin = "b689b0a8-53d0-40ab-baf2-68738e2966ac", headers = "mock-response-headers-policy", methods = true, https = true },
      { path = "/api/v1/deliveries*", cache = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", origin = "b689b0a8-53d0-40ab-baf2-68738e2966ac", headers = "mock-response-headers-policy", methods = true, https = true },
    ]
    error_message = "Subscriptions and deliveries (authenticated reads) bypass the cache (managed CachingDisabled) and carry Authorization (managed AllViewerExceptHostHeader)."
  }
  assert {
    condition = (
      aws_cloudfront_distribution.main[0].logging_config[0].bucket == "icy-morning-dev-cdn-logs-123456789012-eu-west-1.s3.amazonaws.com" &&
      aws_cloudfront_distribution.main[0].logging_config[0].include_cookies == false
    )
    error_message = "Access logs go to the log bucket."
  }
  assert {
    condition = (
      aws_cloudfront_distribution.main[0].price_class == "PriceClass_100" && aws_cloudfront_distribution.main[0].web_acl_id == null &&
      aws_cloudfront_distribution.main[0].enabled && aws_cloudfront_distribution.main[0].viewer_certificate[0].cloudfront_default_certificate &&
      aws_cloudfront_distribution.main[0].restrictions[0].geo_restriction[0].restriction_type == "none"
    )
    error_message = "PriceClass_100, no web ACL unless given, the *.cloudfront.net certificate."
  }
  assert {
    condition     = output.cdn_url == "https://d111111abcdef8.cloudfront.net" && output.cdn_distribution_id == "E2MOCKDISTRIB"
    error_message = "cdn_url (no trailing slash) and cdn_distribution_id name the distribution."
  }
}

run "cache_key_is_path_and_query_only" {
  command = plan

  variables {
    enable_cdn = true
  }

  assert {
    condition = (
      aws_cloudfront_cache_policy.api[0].name == "icy-morning-dev-eu-west-1-api" &&
      aws_cloudfront_origin_request_policy.api[0].name == "icy-morning-dev-eu-west-1-api" &&
      aws_cloudfront_response_headers_policy.security[0].name == "icy-morning-dev-eu-west-1-security"
    )
    error_message = "CloudFront's policies are global: their names carry the stage and the Region."
  }
  assert {
    condition = (
      aws_cloudfront_cache_policy.api[0].min_ttl == 0 && aws_cloudfront_cache_policy.api[0].default_ttl == 0 &&
      aws_cloudfront_cache_policy.api[0].max_ttl == 3600
    )
    error_message = "Minimum and default TTL 0: only what the origin's Cache-Control allows is cached, at most cdn_max_ttl."
  }
  assert {
    condition = (
      aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].header_behavior == "none" &&
      length(aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].headers) == 0 &&
      aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].cookies_config[0].cookie_behavior == "none" &&
      aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].query_strings_config[0].query_string_behavior == "all"
    )
    error_message = "The cache key is the path and every query string: no header (never Authorization), no cookie."
  }
  assert {
    condition = (
      aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].enable_accept_encoding_gzip &&
      aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].enable_accept_encoding_brotli
    )
    error_message = "Compressed answers are cached (gzip and brotli)."
  }
  assert {
    condition = (
      aws_cloudfront_origin_request_policy.api[0].headers_config[0].header_behavior == "whitelist" &&
      toset(one(aws_cloudfront_origin_request_policy.api[0].headers_config[0].headers).items) == toset([
        "Accept", "Content-Type", "If-Match", "If-None-Match", "If-Modified-Since", "Idempotency-Key",
        "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers",
      ]) &&
      aws_cloudfront_origin_request_policy.api[0].query_strings_config[0].query_string_behavior == "all" &&
      aws_cloudfront_origin_request_policy.api[0].cookies_config[0].cookie_behavior == "none"
    )
    error_message = "The origin gets the headers the API reads (validators, conditionals, Idempotency-Key, CORS) and every query string."
  }
  assert {
    condition = alltrue([
      for h in one(aws_cloudfront_origin_request_policy.api[0].headers_config[0].headers).items : !contains(["host", "authorization"], lower(h))
    ])
    error_message = "Never Host (API Gateway needs its own) nor Authorization (CloudFront refuses it there)."
  }
}

run "several_cors_origins_vary_the_cache" {
  command = plan

  variables {
    enable_cdn         = true
    cors_allow_origins = ["https://app.example.com", "https://admin.example.com"]
  }

  assert {
    condition = (
      aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].header_behavior == "whitelist" &&
      toset(one(aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].headers).items) == toset(["Origin"])
    )
    error_message = "With CORS origins, Access-Control-Allow-Origin depends on Origin: it is the one header in the cache key."
  }
  assert {
    condition     = !contains(one(aws_cloudfront_origin_request_policy.api[0].headers_config[0].headers).items, "Origin")
    error_message = "A header in the cache key is forwarded anyway: not listed twice."
  }
}

run "cors_for_every_origin_keeps_the_key_empty" {
  command = plan

  variables {
    enable_cdn         = true
    cors_allow_origins = ["*"]
  }

  assert {
    condition     = aws_cloudfront_cache_policy.api[0].parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].header_behavior == "none"
    error_message = "With \"*\" the answer is the same for every origin: no header in the key."
  }
}

run "security_headers_keep_the_origins_csp" {
  command = plan

  variables {
    enable_cdn = true
  }

  assert {
    condition = (
      aws_cloudfront_response_headers_policy.security[0].security_headers_config[0].strict_transport_security[0].access_control_max_age_sec >= 31536000 &&
      aws_cloudfront_response_headers_policy.security[0].security_headers_config[0].strict_transport_security[0].override &&
      aws_cloudfront_response_headers_policy.security[0].security_headers_config[0].content_type_options[0].override &&
      aws_cloudfront_response_headers_policy.security[0].security_headers_config[0].frame_options[0].frame_option == "DENY" &&
      aws_cloudfront_response_headers_policy.security[0].security_headers_config[0].referrer_policy[0].referrer_policy == "strict-origin-when-cross-origin"
    )
    error_message = "HSTS (a year), nosniff, frame options and referrer policy."
  }
  assert {
    condition     = length(aws_cloudfront_response_headers_policy.security[0].security_headers_config[0].content_security_policy) == 0
    error_message = "No Content-Security-Policy: the origin's own (the docs page's) must reach the browser unchanged."
  }
}

run "a_daily_budget_of_its_own" {
  command = plan

  variables {
    enable_cdn                   = true
    cdn_invalidation_daily_paths = 0
  }

  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.CDN_INVALIDATION_DAILY_PATHS == "0" && !contains(keys(aws_lambda_function.api.environment[0].variables), "CDN_INVALIDATION_DAILY_PATHS")
    error_message = "cdn_invalidation_daily_paths reaches the worker (only) when it is not the binary's default."
  }
}

run "a_negative_daily_budget" {
  command = plan

  variables {
    enable_cdn                   = true
    cdn_invalidation_daily_paths = -1
  }

  expect_failures = [var.cdn_invalidation_daily_paths]
}

run "environment_and_permissions_follow_the_contract" {
  command = plan

  variables {
    enable_cdn = true
  }

  assert {
    condition = (
      aws_lambda_function.api.environment[0].variables.CDN_ORIGIN_SECRET_ARN == aws_secretsmanager_secret.cdn_origin[0].arn &&
      !contains(keys(aws_lambda_function.api.environment[0].variables), "CDN_DISTRIBUTION_ID")
    )
    error_message = "The API function gets CDN_ORIGIN_SECRET_ARN, and not the distribution."
  }
  assert {
    condition = (
      aws_lambda_function.worker.environment[0].variables.CDN_DISTRIBUTION_ID == "E2MOCKDISTRIB" &&
      !contains(keys(aws_lambda_function.worker.environment[0].variables), "CDN_ORIGIN_SECRET_ARN")
    )
    error_message = "The worker gets CDN_DISTRIBUTION_ID, and not the origin secret."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.worker.environment[0].variables), "CDN_INVALIDATION_DAILY_PATHS")
    error_message = "The default daily budget is the binary's: no CDN_INVALIDATION_DAILY_PATHS."
  }
  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker, aws_lambda_function.migrate] :
      length([for k in keys(fn.environment[0].variables) : k if startswith(k, "CACHE_")]) == 0
    ]) && length([for k in keys(aws_lambda_function.migrate.environment[0].variables) : k if startswith(k, "CDN_")]) == 0
    error_message = "The cache defaults are the binary's: no CACHE_*; the migrate function gets nothing of the CDN."
  }
  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker] :
      fn.environment[0].variables.PUBLIC_BASE_URL == "https://d111111abcdef8.cloudfront.net/"
    ])
    error_message = "Links in mails lead through the CDN."
  }
  assert {
    condition = (
      one([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Action if s.Sid == "ReadCdnOriginSecret"]) == ["secretsmanager:GetSecretValue"] &&
      one([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "ReadCdnOriginSecret"]) == [aws_secretsmanager_secret.cdn_origin[0].arn]
    )
    error_message = "The API function's role may read the origin secret, and only that one more."
  }
  assert {
    condition = alltrue([
      for p in [aws_iam_role_policy.worker.policy, aws_iam_role_policy.migrate.policy] : !strcontains(p, aws_secretsmanager_secret.cdn_origin[0].arn)
    ])
    error_message = "Neither the worker nor the migrate function may read the origin secret."
  }
  assert {
    condition = (
      one([for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s.Action if s.Sid == "InvalidateOwnDistribution"]) == ["cloudfront:CreateInvalidation"] &&
      one([for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s.Resource if s.Sid == "InvalidateOwnDistribution"]) == ["arn:aws:cloudfront::123456789012:distribution/E2MOCKDISTRIB"]
    )
    error_message = "The worker may create invalidations of this distribution, and nothing else in CloudFront."
  }
  assert {
    condition = alltrue(flatten([
      for p in [aws_iam_role_policy.worker.policy, aws_iam_role_policy.function.policy, aws_iam_role_policy.migrate.policy] : [
        for s in jsondecode(p).Statement : [
          for a in flatten([s.Action]) : !startswith(a, "cloudfront:") || (a == "cloudfront:CreateInvalidation" && s.Sid == "InvalidateOwnDistribution" && p == aws_iam_role_policy.worker.policy)
        ]
      ]
    ]))
    error_message = "No other CloudFront permission in any role."
  }
  assert {
    condition = alltrue(flatten([
      for p in [aws_iam_role_policy.function.policy, aws_iam_role_policy.worker.policy] : [
        for s in jsondecode(p).Statement : [for r in flatten([s.Resource]) : r != "*" && !endswith(r, "/*")]
      ]
    ]))
    error_message = "No statement of either role may grant on every resource."
  }
}

run "origin_secret_is_the_documented_exception" {
  command = plan

  variables {
    enable_cdn = true
  }

  assert {
    condition = (
      aws_secretsmanager_secret.cdn_origin[0].kms_key_id == aws_kms_key.main.arn &&
      aws_secretsmanager_secret_version.cdn_origin[0].secret_id == aws_secretsmanager_secret.cdn_origin[0].id &&
      data.aws_secretsmanager_random_password.cdn_origin[0].password_length >= 32 &&
      data.aws_secretsmanager_random_password.cdn_origin[0].exclude_punctuation
    )
    error_message = "The origin secret is encrypted with the deployment's key, 32 or more letters and digits from the generator."
  }
  assert {
    condition     = aws_secretsmanager_secret_version.cdn_origin[0].secret_string != null && aws_secretsmanager_secret_version.cdn_origin[0].secret_string_wo == null
    error_message = "CloudFront must be given the value, so it is written as secret_string (in the state; README says so)."
  }
  assert {
    condition = (
      aws_secretsmanager_secret_version.basic_auth[0].secret_string == null && aws_secretsmanager_secret_version.basic_auth[0].secret_string_wo_version == 1 &&
      aws_secretsmanager_secret_version.app_db[0].secret_string == null && aws_secretsmanager_secret_version.app_db[0].secret_string_wo_version == 1
    )
    error_message = "With the CDN on, the Basic auth and database passwords still stay out of the state."
  }
  assert {
    condition     = terraform_data.cdn_origin_secret_version[0].triggers_replace == 1
    error_message = "The origin secret's generation follows cdn_origin_secret_version."
  }
}

run "origin_secret_rotates_with_its_version" {
  command = plan

  variables {
    enable_cdn                = true
    cdn_origin_secret_version = 2
  }

  assert {
    condition     = terraform_data.cdn_origin_secret_version[0].triggers_replace == 2
    error_message = "Raising cdn_origin_secret_version replaces the generation the secret version is tied to."
  }
}

run "log_bucket_is_private_encrypted_and_expires" {
  command = plan

  variables {
    enable_cdn = true
  }

  assert {
    condition = (
      aws_s3_bucket.cdn_logs[0].bucket == "icy-morning-dev-cdn-logs-123456789012-eu-west-1" &&
      aws_s3_bucket_public_access_block.cdn_logs[0].block_public_acls && aws_s3_bucket_public_access_block.cdn_logs[0].block_public_policy &&
      aws_s3_bucket_public_access_block.cdn_logs[0].ignore_public_acls && aws_s3_bucket_public_access_block.cdn_logs[0].restrict_public_buckets
    )
    error_message = "The log bucket blocks every kind of public access."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.cdn_logs[0].rule[0].object_ownership == "BucketOwnerPreferred"
    error_message = "CloudFront's standard logging writes through an ACL grant: ACLs stay enabled (BucketOwnerPreferred)."
  }
  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.cdn_logs[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.cdn_logs[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == aws_kms_key.main.arn
    )
    error_message = "Logs are encrypted with the deployment's key."
  }
  assert {
    condition = (
      aws_s3_bucket_lifecycle_configuration.cdn_logs[0].rule[0].status == "Enabled" &&
      aws_s3_bucket_lifecycle_configuration.cdn_logs[0].rule[0].expiration[0].days == 30
    )
    error_message = "Logs expire after log_retention_days."
  }
  assert {
    condition = one(jsondecode(aws_s3_bucket_policy.cdn_logs[0].policy).Statement) == {
      Sid       = "DenyWithoutTLS", Effect = "Deny", Principal = "*", Action = "s3:*",
      Resource  = ["arn:aws:s3:::icy-morning-dev-cdn-logs-123456789012-eu-west-1", "arn:aws:s3:::icy-morning-dev-cdn-logs-123456789012-eu-west-1/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
    error_message = "The bucket refuses requests without TLS."
  }
  assert {
    condition = one([for s in jsondecode(aws_kms_key.main.policy).Statement : s if s.Sid == "CloudFrontLogDeliveryEncryptsTheLogBucket"]) == {
      Sid    = "CloudFrontLogDeliveryEncryptsTheLogBucket", Effect = "Allow", Principal = { Service = "delivery.logs.amazonaws.com" },
      Action = "kms:GenerateDataKey*", Resource = "*",
      Condition = { StringLike = { "kms:EncryptionContext:aws:s3:arn" = [
        "arn:aws:s3:::icy-morning-dev-cdn-logs-123456789012-eu-west-1", "arn:aws:s3:::icy-morning-dev-cdn-logs-123456789012-eu-west-1/*",
      ] } }
    }
    error_message = "CloudFront's log delivery may use the key for the log bucket only."
  }
}

run "web_acl_when_given" {
  command = plan

  variables {
    enable_cdn      = true
    cdn_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/icy/0123abcd-0123-4567-89ab-0123456789ab"
    cdn_price_class = "PriceClass_All"
  }

  assert {
    condition     = aws_cloudfront_distribution.main[0].web_acl_id == "arn:aws:wafv2:us-east-1:123456789012:global/webacl/icy/0123abcd-0123-4567-89ab-0123456789ab" && aws_cloudfront_distribution.main[0].price_class == "PriceClass_All"
    error_message = "cdn_web_acl_arn and cdn_price_class reach the distribution."
  }
}

run "docs_login_returns_through_the_cdn" {
  command = plan

  variables {
    enable_cdn         = true
    auth_type          = "jwt"
    enable_cognito     = true
    enable_nat_gateway = true
  }

  assert {
    condition = (
      contains(aws_cognito_user_pool_client.docs[0].callback_urls, "https://d111111abcdef8.cloudfront.net/docs/oauth2-redirect.html") &&
      contains(aws_cognito_user_pool_client.docs[0].logout_urls, "https://d111111abcdef8.cloudfront.net/docs")
    )
    error_message = "Swagger UI's login through the CDN comes back to the CDN."
  }
}

# --- CACHE_MAX_AGE and CACHE_S_MAXAGE: only when not the binary's defaults ----------------

run "cache_settings_that_differ_reach_both_functions" {
  command = plan

  variables {
    cache_max_age  = 30
    cache_s_maxage = 300
  }

  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker] :
      fn.environment[0].variables.CACHE_MAX_AGE == "30" && fn.environment[0].variables.CACHE_S_MAXAGE == "300"
    ])
    error_message = "cache_max_age and cache_s_maxage reach both functions, with or without the CDN."
  }
  assert {
    condition     = length([for k in keys(aws_lambda_function.migrate.environment[0].variables) : k if startswith(k, "CACHE_")]) == 0
    error_message = "The migrate function serves nothing: no cache settings."
  }
}

run "cache_settings_at_the_defaults_are_left_out" {
  command = plan

  variables {
    enable_cdn     = true
    cache_max_age  = 0
    cache_s_maxage = 120
  }

  assert {
    condition = alltrue([for fn in [aws_lambda_function.api, aws_lambda_function.worker] :
      !contains(keys(fn.environment[0].variables), "CACHE_MAX_AGE") && fn.environment[0].variables.CACHE_S_MAXAGE == "120"
    ])
    error_message = "Only the setting that differs from the binary's default is set."
  }
}

# --- combinations the variables refuse ----------------------------------------------------

run "cdn_with_private_reads" {
  command = plan
  variables {
    enable_cdn         = true
    reads_require_auth = true
  }
  expect_failures = [var.enable_cdn]
}

run "cdn_with_custom_domain" {
  command = plan
  variables {
    enable_cdn           = true
    enable_custom_domain = true
    api_gateway_domain   = "api.example.com"
    certificates_dir     = "tests/fixtures/certs"
  }
  expect_failures = [var.enable_cdn]
}

run "unknown_price_class" {
  command = plan
  variables {
    enable_cdn      = true
    cdn_price_class = "PriceClass_50"
  }
  expect_failures = [var.cdn_price_class]
}

run "regional_web_acl" {
  command = plan
  variables {
    enable_cdn      = true
    cdn_web_acl_arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/icy/0123abcd"
  }
  expect_failures = [var.cdn_web_acl_arn]
}

run "negative_max_age" {
  command = plan
  variables {
    cache_max_age = -1
  }
  expect_failures = [var.cache_max_age]
}

run "fractional_s_maxage" {
  command = plan
  variables {
    cache_s_maxage = 1.5
  }
  expect_failures = [var.cache_s_maxage]
}

run "no_max_ttl" {
  command = plan
  variables {
    enable_cdn  = true
    cdn_max_ttl = 0
  }
  expect_failures = [var.cdn_max_ttl]
}

run "origin_secret_generation_zero" {
  command = plan
  variables {
    enable_cdn                = true
    cdn_origin_secret_version = 0
  }
  expect_failures = [var.cdn_origin_secret_version]
}
