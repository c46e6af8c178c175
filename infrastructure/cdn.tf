# The optional CloudFront distribution in front of the HTTP API
# (enable_cdn): GET and HEAD cached on path and query string, as long as
# the origin's Cache-Control allows; every other method passed through; the
# authenticated reads (subscriptions, deliveries) never cached; security
# headers on every answer; access logs in an S3 bucket. The function refuses
# any request without the X-Origin-Verify header CloudFront adds, so the
# API's own endpoint stops serving anyone else. After each committed write
# the worker invalidates the paths it changed (CDN_DISTRIBUTION_ID).
#
# The cache settings (CACHE_MAX_AGE, CACHE_S_MAXAGE) reach both functions
# whether or not the distribution exists: any shared cache, a corporate
# proxy or a browser reads the same Cache-Control.

locals {
  cdn = var.enable_cdn

  # The binary's defaults are left out, as auth.tf leaves AUTH_TYPE out, so
  # a deployment that keeps them has exactly the environment it had.
  cache_environment = merge(
    var.cache_max_age != 0 ? { CACHE_MAX_AGE = tostring(var.cache_max_age) } : {},
    var.cache_s_maxage != 60 ? { CACHE_S_MAXAGE = tostring(var.cache_s_maxage) } : {},
  )

  # Merged into function_environment (function.tf) and worker_environment
  # (worker.tf). The API function checks the origin header against the
  # secret; the worker invalidates the distribution after writes.
  cdn_function_environment = merge(
    local.cache_environment,
    local.cdn ? { CDN_ORIGIN_SECRET_ARN = aws_secretsmanager_secret.cdn_origin[0].arn } : {},
  )
  cdn_worker_environment = merge(
    local.cache_environment,
    local.cdn ? { CDN_DISTRIBUTION_ID = aws_cloudfront_distribution.main[0].id } : {},
    # The binary's default budget (30 paths a day) is left out.
    local.cdn && var.cdn_invalidation_daily_paths != 30 ? { CDN_INVALIDATION_DAILY_PATHS = tostring(var.cdn_invalidation_daily_paths) } : {},
  )

  # Added to the API function's and the worker's policies: the origin secret
  # for the one, invalidations of this distribution for the other.
  cdn_function_statements = local.cdn ? [
    {
      Sid      = "ReadCdnOriginSecret"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = [aws_secretsmanager_secret.cdn_origin[0].arn]
    },
  ] : []
  cdn_worker_statements = local.cdn ? [
    {
      Sid      = "InvalidateOwnDistribution"
      Effect   = "Allow"
      Action   = ["cloudfront:CreateInvalidation"]
      Resource = [aws_cloudfront_distribution.main[0].arn]
    },
  ] : []

  # CloudFront's policies are global to the account: the Region keeps two
  # stages of the same name in different Regions apart.
  cdn_policy_prefix = "${local.prefix}-${local.region}"

  # Without a trailing slash, like api_url.
  cdn_url = local.cdn ? "https://${aws_cloudfront_distribution.main[0].domain_name}" : null

  # The API Gateway endpoint is https://<id>.execute-api.<region>.amazonaws.com.
  cdn_origin_host = replace(aws_apigatewayv2_api.main.api_endpoint, "https://", "")

  # API Gateway's CORS answers Access-Control-Allow-Origin with the
  # caller's origin when several are allowed: a cached answer must then
  # belong to one origin. With no CORS, or "*" only, nothing varies.
  cdn_cache_key_headers = length([for o in var.cors_allow_origins : o if o != "*"]) > 0 ? ["Origin"] : []

  # What the function reads besides the method, path, query and body: the
  # validators and conditional headers, Idempotency-Key, and what CORS
  # preflights carry. Never Host (API Gateway routes on its own name) and
  # never Authorization (CloudFront refuses it in an origin request policy;
  # it forwards it on writes by itself, and the authenticated reads have
  # behaviours of their own below). A header already in the cache key is
  # forwarded anyway.
  cdn_forwarded_headers = [
    for h in [
      "Accept", "Content-Type", "If-Match", "If-None-Match", "If-Modified-Since", "Idempotency-Key",
      "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers",
    ] : h if !contains(local.cdn_cache_key_headers, h)
  ]

  # AWS's managed policies, by their documented fixed ids: caching off, and
  # every viewer header but Host, which with caching off includes
  # Authorization.
  cloudfront_managed_caching_disabled              = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  cloudfront_managed_all_viewer_except_host_header = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

  # Reads that need credentials (httpapi/routes.go): CloudFront drops
  # Authorization from GET and HEAD unless it is in the cache key, so these
  # paths bypass the cache and carry every header. Their writes (POST,
  # DELETE) go the same way.
  cdn_uncached_paths = ["/api/v1/subscriptions*", "/api/v1/deliveries*"]
}

# --- the origin secret ---------------------------------------------------------------
# Proves a request came through CloudFront; it grants no access to any data.
# CloudFront must be given the value itself (the origin's custom header), so
# unlike the database and Basic auth passwords it is in the plan and the
# state: the documented exception (README, "CloudFront"). 64 letters and
# digits from Secrets Manager's generator, written once and kept while
# cdn_origin_secret_version stays the same; raising that number writes a new
# value, and the same apply gives it to the distribution.

resource "terraform_data" "cdn_origin_secret_version" {
  count = local.cdn ? 1 : 0

  triggers_replace = var.cdn_origin_secret_version
}

resource "aws_secretsmanager_secret" "cdn_origin" {
  count = local.cdn ? 1 : 0

  name_prefix             = "${local.prefix}/cdn-origin-"
  description             = "Value CloudFront sends to the ${local.prefix} API in X-Origin-Verify (CDN_ORIGIN_SECRET_ARN): proves a request came through the distribution"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

data "aws_secretsmanager_random_password" "cdn_origin" {
  count = local.cdn ? 1 : 0

  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "cdn_origin" {
  count = local.cdn ? 1 : 0

  secret_id     = aws_secretsmanager_secret.cdn_origin[0].id
  secret_string = data.aws_secretsmanager_random_password.cdn_origin[0].random_password

  lifecycle {
    # The generator answers a new value on every plan: the first one is kept
    # until cdn_origin_secret_version changes.
    ignore_changes       = [secret_string]
    replace_triggered_by = [terraform_data.cdn_origin_secret_version[count.index]]
  }
}

# --- policies ------------------------------------------------------------------------

# The cache key: path and every query string, no header (so never
# Authorization) and no cookie. min and default TTL 0: only what the origin's
# Cache-Control allows (s-maxage, then max-age) is cached, and an answer
# without one is not.
resource "aws_cloudfront_cache_policy" "api" {
  count = local.cdn ? 1 : 0

  name        = "${local.cdn_policy_prefix}-api"
  comment     = "Icy Morning API (${var.stage}): path and query string; the origin's Cache-Control decides"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = var.cdn_max_ttl

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true

    headers_config {
      header_behavior = length(local.cdn_cache_key_headers) > 0 ? "whitelist" : "none"
      dynamic "headers" {
        for_each = length(local.cdn_cache_key_headers) > 0 ? [1] : []
        content {
          items = local.cdn_cache_key_headers
        }
      }
    }
    cookies_config {
      cookie_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "all"
    }
  }
}

resource "aws_cloudfront_origin_request_policy" "api" {
  count = local.cdn ? 1 : 0

  name    = "${local.cdn_policy_prefix}-api"
  comment = "Icy Morning API (${var.stage}): the headers the API reads, never Host"

  headers_config {
    header_behavior = "whitelist"
    headers {
      items = local.cdn_forwarded_headers
    }
  }
  cookies_config {
    cookie_behavior = "none"
  }
  query_strings_config {
    query_string_behavior = "all"
  }
}

# Security headers on every answer. No Content-Security-Policy: the origin
# sets its own (the docs page needs Swagger UI's), and this policy must not
# replace it. HSTS and nosniff always; frame and referrer policies only where
# the origin set none.
resource "aws_cloudfront_response_headers_policy" "security" {
  count = local.cdn ? 1 : 0

  name    = "${local.cdn_policy_prefix}-security"
  comment = "Icy Morning API (${var.stage}): HSTS, nosniff, frame and referrer policies; the origin's CSP is kept"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = false
      preload                    = false
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = false
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = false
    }
  }
}

# --- access logs ---------------------------------------------------------------------
# CloudFront's standard logging to S3 (the "legacy" kind, which the
# distribution itself names and the scanners recognise). The bucket keeps
# ACLs enabled (BucketOwnerPreferred), because CloudFront's log delivery
# account writes through an ACL grant it adds when the distribution is
# created; every public access is blocked, objects are encrypted with the
# deployment's key (its policy lets the log delivery service use it for this
# bucket, main.tf), requests without TLS are refused and logs expire after
# log_retention_days. The bucket goes with the stage (force_destroy): its
# logs are kept no longer than the log groups'. No versioning (log objects
# are written once and expire) and no access log of the log bucket itself
# (another bucket for that): the scanners' two MEDIUM findings.

locals {
  # Named, not prefixed, so that the key policy (main.tf) knows the bucket
  # at plan time; bucket names are global, so the account and Region are in
  # it (62 characters at most with the longest name and stage).
  cdn_logs_bucket_name = "${local.prefix}-cdn-logs-${local.account_id}-${local.region}"
  cdn_logs_bucket_arn  = "arn:${local.partition}:s3:::${local.cdn_logs_bucket_name}"

  # The log delivery service encrypts with the deployment's key (AWS's
  # documented statement for SSE-KMS log buckets), for this bucket only: S3
  # names the bucket, or with bucket keys off the object, in the encryption
  # context. Added to the key policy in main.tf.
  cdn_kms_key_statements = local.cdn ? [
    {
      Sid       = "CloudFrontLogDeliveryEncryptsTheLogBucket"
      Effect    = "Allow"
      Principal = { Service = "delivery.logs.amazonaws.com" }
      Action    = "kms:GenerateDataKey*"
      Resource  = "*"
      Condition = {
        StringLike = {
          "kms:EncryptionContext:aws:s3:arn" = [local.cdn_logs_bucket_arn, "${local.cdn_logs_bucket_arn}/*"]
        }
      }
    },
  ] : []
}

resource "aws_s3_bucket" "cdn_logs" {
  count = local.cdn ? 1 : 0

  bucket        = local.cdn_logs_bucket_name
  force_destroy = true
}

resource "aws_s3_bucket_ownership_controls" "cdn_logs" {
  count = local.cdn ? 1 : 0

  bucket = aws_s3_bucket.cdn_logs[0].id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "cdn_logs" {
  count = local.cdn ? 1 : 0

  bucket                  = aws_s3_bucket.cdn_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "cdn_logs" {
  count = local.cdn ? 1 : 0

  bucket = aws_s3_bucket.cdn_logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    # One data key per bucket rather than per object: fewer KMS requests.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "cdn_logs" {
  count = local.cdn ? 1 : 0

  bucket = aws_s3_bucket.cdn_logs[0].id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "cdn_logs" {
  count = local.cdn ? 1 : 0

  bucket = aws_s3_bucket.cdn_logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyWithoutTLS"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.cdn_logs[0].arn, "${aws_s3_bucket.cdn_logs[0].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.cdn_logs]
}

# --- the distribution ----------------------------------------------------------------

# WAF: a web ACL costs money every month (about 5 USD plus 1 per rule and
# 0.60 per million requests), so it is optional: cdn_web_acl_arn attaches one
# (WAFv2, scope CLOUDFRONT, us-east-1). Without it, API Gateway's stage
# throttling and the function's own limits (sign-up, failed authentication)
# are what stands against floods; README, "CloudFront".
#
# TLS: on its *.cloudfront.net name CloudFront serves its own certificate
# with the fixed security policy TLSv1 (AWS sets it "regardless of the value
# you set"); only an alias with an ACM certificate in us-east-1 can require
# TLS 1.2 from viewers, and this deployment builds none (variables.tf,
# enable_cdn). The origin side is TLS 1.2 only. README, "CloudFront".
# (trivy 0.74 does not check the distribution; its ignores are for later
# versions.)
#tfsec:ignore:aws-cloudfront-enable-waf
#trivy:ignore:AVD-AWS-0011
resource "aws_cloudfront_distribution" "main" {
  count = local.cdn ? 1 : 0

  enabled         = true
  comment         = "Icy Morning API (${var.stage})"
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = var.cdn_price_class
  web_acl_id      = var.cdn_web_acl_arn
  # The apply goes on while the distribution deploys (minutes); its name
  # and id are known at once.
  wait_for_deployment = false

  origin {
    origin_id   = "api"
    domain_name = local.cdn_origin_host

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      # API Gateway gives up at 30 s.
      origin_read_timeout = 30
    }

    custom_header {
      name  = "X-Origin-Verify"
      value = aws_secretsmanager_secret_version.cdn_origin[0].secret_string
    }
  }

  default_cache_behavior {
    target_origin_id           = "api"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.api[0].id
    origin_request_policy_id   = aws_cloudfront_origin_request_policy.api[0].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security[0].id
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.cdn_uncached_paths
    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = "api"
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = local.cloudfront_managed_caching_disabled
      origin_request_policy_id   = local.cloudfront_managed_all_viewer_except_host_header
      response_headers_policy_id = aws_cloudfront_response_headers_policy.security[0].id
    }
  }

  logging_config {
    bucket          = aws_s3_bucket.cdn_logs[0].bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  # The *.cloudfront.net name and certificate (see above on TLS).
  #trivy:ignore:AVD-AWS-0013
  #tfsec:ignore:aws-cloudfront-use-secure-tls-policy
  viewer_certificate {
    cloudfront_default_certificate = true
  }

  depends_on = [
    # CloudFront adds its ACL grant to the bucket: ACLs must be enabled first.
    aws_s3_bucket_ownership_controls.cdn_logs,
    aws_s3_bucket_public_access_block.cdn_logs,
  ]
}
