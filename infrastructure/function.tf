# The icy-morning binary as a Lambda function (bootstrap on provided.al2023)
# in the private subnets, with a role that can read its secrets, send to its
# queues, send mail as the SES identity and write its own log group, and
# nothing more. The worker function (worker.tf) is the same zip and shares
# the environment and the statements built here.

locals {
  # The zip, or the container image (ecr.tf): the three functions run the
  # same binary either way. code_version changes when the code does (the
  # zip's hash, or the image's immutable tag) and re-runs the migration.
  lambda_zip      = var.package_type == "Zip"
  lambda_zip_hash = local.lambda_zip ? filebase64sha256(var.lambda_zip_path) : null
  code_version    = local.lambda_zip ? local.lambda_zip_hash : local.lambda_image_uri

  # Named exactly as the binary reads them; values hold no secret. The
  # binary's Lambda mode insists on an API account even where nothing asks
  # for one (the worker), so both functions get the same authentication
  # settings (auth.tf): the Basic auth secret while auth_type has basic, and
  # AUTH_TYPE with the OIDC_* settings while it has jwt. They connect as the
  # least-privilege role icy_app (a migration creates it), with the app
  # secret's password or, in IAM mode, an IAM token; only the migrate
  # function (migrate.tf) holds the master secret.
  database_environment = merge(
    {
      DATABASE_URL = local.app_database_url
      DB_MAX_CONNS = tostring(var.db_max_conns)
      LOG_LEVEL    = var.log_level
      LOG_FORMAT   = "json"
    },
    local.basic_enabled ? { BASIC_AUTH_SECRET_ARN = local.basic_auth_secret_arn } : {},
    local.token_environment,
    var.database_iam_auth ? { DATABASE_IAM_AUTH = "true" } : { DATABASE_SECRET_ARN = local.app_db_secret_arn },
    # Through the proxy, prepared statements would pin each session to one
    # database connection; the exec mode sends plain extended-protocol queries.
    var.enable_rds_proxy ? { DB_QUERY_EXEC_MODE = "exec" } : {},
  )

  # Links in mails lead to the API: on its custom domain when there is one
  # (the URL people know), else through the CDN when it is on (cdn.tf: the
  # function then refuses requests that bypass it), else on API Gateway's
  # own endpoint.
  public_base_url = (
    var.enable_custom_domain && var.api_gateway_domain != null ? "https://${coalesce(var.api_gateway_domain, "x.invalid")}/" :
    var.enable_cdn ? "${local.cdn_url}/" :
    "${aws_apigatewayv2_api.main.api_endpoint}/"
  )

  # A delivery claimed by a sender that died is taken over after this; it
  # must outlast any live sender's invocation, so at least twice the
  # worker's timeout (the binary's default, 2 minutes, when that is longer).
  notify_claim_timeout_seconds = max(120, 2 * var.worker_timeout_seconds)

  # What both functions need to write and sign mails.
  mail_environment = {
    MAIL_URL             = local.mail_url
    MAIL_FROM            = local.mail_from
    PUBLIC_BASE_URL      = local.public_base_url
    NOTIFY_SECRET_ARN    = aws_secretsmanager_secret.notify.arn
    NOTIFY_CLAIM_TIMEOUT = "${local.notify_claim_timeout_seconds}s"
  }

  # The API function nudges the worker through the queue after each change
  # to an asset, and sends sign-up confirmations itself: one at a time, at
  # most one a second, leaving the SES quota to the workers.
  function_environment = merge(local.database_environment, local.mail_environment, {
    NOTIFY_QUEUE_URL    = aws_sqs_queue.asset_events.url
    MAIL_MAX_PER_SECOND = "1"
    MAIL_CONNECTIONS    = "1"
  }, local.cdn_function_environment) # CACHE_*, and CDN_ORIGIN_SECRET_ARN with the CDN (cdn.tf)

  function_secret_arns = concat(
    local.basic_enabled ? [local.basic_auth_secret_arn] : [],
    [aws_secretsmanager_secret.notify.arn],
    var.database_iam_auth ? [] : [local.app_db_secret_arn],
  )
}

# --- how many API instances the database can take ----------------------------------
# Without the proxy every API instance holds up to db_max_conns connections
# of the instance's own. RDS PostgreSQL's default max_connections is
# LEAST(DBInstanceClassMemory / 9531392, 5000) ("max_connections", AWS
# Prescriptive Guidance, Tuning PostgreSQL parameters); DBInstanceClassMemory
# is the class's memory less what the OS and RDS keep, so three quarters of
# the nominal figure are counted, and the worker's instances (the queue's and
# the sweep's) and the migrate function's are taken off before dividing by
# db_max_conns: 38 for db.t4g.micro with the defaults.

locals {
  # Memory in GiB by class size, for the burstable (t), general (m) and
  # memory-optimised (r) families; another class needs
  # lambda_reserved_concurrency set explicitly.
  db_class_family = try(regex("^db\\.([tmr])[0-9]+[a-z]*\\.", var.db_instance_class)[0], null)
  db_class_size   = try(regex("\\.([a-z0-9]+)$", var.db_instance_class)[0], null)
  db_class_memory_gib = try({
    t = { micro = 1, small = 2, medium = 4, large = 8, xlarge = 16, "2xlarge" = 32 }
    m = { large = 8, xlarge = 16, "2xlarge" = 32, "4xlarge" = 64, "8xlarge" = 128 }
    r = { large = 16, xlarge = 32, "2xlarge" = 64, "4xlarge" = 128, "8xlarge" = 256 }
  }[local.db_class_family][local.db_class_size], null)

  db_max_connections_estimate = local.db_class_memory_gib == null ? null : min(5000, floor(0.75 * local.db_class_memory_gib * 1073741824 / 9531392))
  db_connections_not_api      = (var.worker_max_concurrency + 1) * var.db_max_conns + local.migrate_db_max_conns

  api_reserved_concurrency = (
    var.lambda_reserved_concurrency != null ? var.lambda_reserved_concurrency :
    var.enable_rds_proxy ? -1 :
    local.db_max_connections_estimate == null ? null :
    max(1, floor((local.db_max_connections_estimate - local.db_connections_not_api) / var.db_max_conns))
  )
}

# --- the Basic auth account -----------------------------------------------------
# The password is written once through the write-only secret_string_wo: it
# reaches Secrets Manager and never the plan or the state. It is 64 hex
# digits from two uuid() calls (Terraform's uuid() reads crypto/rand through
# hashicorp/go-uuid: 244 random bits), not from an ephemeral resource,
# because Terraform 1.11's mock providers refuse every ephemeral resource
# type and the plan tests could not run; no other provider is needed either.
# uuid() is evaluated afresh on every run, and ignored while
# secret_string_wo_version stays the same. Rotate deliberately with
# terraform apply -replace='aws_secretsmanager_secret_version.basic_auth[0]'.

locals {
  # Where the write-only passwords come from (see above); each entry calls
  # uuid() on its own, so no two secrets share a password.
  generated_passwords = {
    basic_auth = replace("${uuid()}${uuid()}", "-", "")
    app_db     = replace("${uuid()}${uuid()}", "-", "")
  }
}

# Only while auth_type has basic: with jwt alone there is no password to
# leak (the secret is deleted after secret_recovery_window_days).

locals {
  basic_auth_secret_arn = local.basic_enabled ? aws_secretsmanager_secret.basic_auth[0].arn : null
}

moved {
  from = aws_secretsmanager_secret.basic_auth
  to   = aws_secretsmanager_secret.basic_auth[0]
}

moved {
  from = aws_secretsmanager_secret_version.basic_auth
  to   = aws_secretsmanager_secret_version.basic_auth[0]
}

resource "aws_secretsmanager_secret" "basic_auth" {
  count = local.basic_enabled ? 1 : 0

  name_prefix             = "${local.prefix}/basic-auth-"
  description             = "Basic auth account of the ${local.prefix} API: JSON {username, password}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "basic_auth" {
  count = local.basic_enabled ? 1 : 0

  secret_id = aws_secretsmanager_secret.basic_auth[0].id
  secret_string_wo = jsonencode({
    username = var.basic_auth_username
    password = local.generated_passwords.basic_auth
  })
  secret_string_wo_version = 1
}

# --- the application database role's password (icy_app) -------------------------------
# Not in IAM mode at the database (then icy_app signs in with tokens). The
# migrate function sets icy_app's password from this secret after migrating;
# the API and worker functions read it (and through the RDS Proxy, the proxy
# does). Written once and write-only, like the Basic auth password.

resource "aws_secretsmanager_secret" "app_db" {
  count = local.app_db_password_auth ? 1 : 0

  name_prefix             = "${local.prefix}/database-app-"
  description             = "PostgreSQL role ${local.app_db_username} of ${local.prefix}: JSON {username, password}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "app_db" {
  count = local.app_db_password_auth ? 1 : 0

  secret_id = aws_secretsmanager_secret.app_db[0].id
  secret_string_wo = jsonencode({
    username = local.app_db_username
    password = local.generated_passwords.app_db
  })
  secret_string_wo_version = 1
}

# --- the link-signing key (NOTIFY_SECRET) ------------------------------------------
# Signs unsubscribe and confirmation links; both functions must hold the same
# key. 64 letters and digits from GetRandomPassword (about 380 bits; the
# binary wants 32 bytes or more), written once and kept, so links in mails
# already sent stay valid. Rotating it
# (-replace=aws_secretsmanager_secret_version.notify) voids those links.
# Unlike the passwords above it still goes through secret_string and so sits
# in the state; moving it to secret_string_wo is the same change as theirs.

resource "aws_secretsmanager_secret" "notify" {
  name_prefix             = "${local.prefix}/notify-secret-"
  description             = "Key that signs the unsubscribe and confirmation links in ${local.prefix}'s mails (NOTIFY_SECRET)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

data "aws_secretsmanager_random_password" "notify" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "notify" {
  secret_id     = aws_secretsmanager_secret.notify.id
  secret_string = data.aws_secretsmanager_random_password.notify.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# --- role ------------------------------------------------------------------------

resource "aws_iam_role" "function" {
  name_prefix = "${local.prefix}-function-"
  description = "Execution role of the ${local.function_name} function"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

# Network interfaces in the VPC (these EC2 actions take no resource ARN) and
# X-Ray segments: AWS's narrow managed policies for exactly that, plus
# ec2:DescribeSubnets (below).
resource "aws_iam_role_policy_attachment" "function_managed" {
  for_each = toset([
    "service-role/AWSLambdaENIManagementAccess",
    "AWSXRayDaemonWriteAccess",
  ])

  role       = aws_iam_role.function.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

# AWS added ec2:DescribeSubnets to AWSLambdaVPCAccessExecutionRole (policy
# version v3, edited January 5, 2024: "AWSLambdaVPCAccessExecutionRole", AWS
# Managed Policy Reference), beside the ENI actions Lambda uses to attach a
# function to its subnets; AWSLambdaENIManagementAccess (v2, October 2020)
# still lacks it. Rather than the VPC policy (which also grants
# logs:CreateLogGroup and PutLogEvents on every log group), the three
# function roles get this one action. Describe actions take no resource ARN.
resource "aws_iam_policy" "lambda_describe_subnets" {
  name_prefix = "${local.prefix}-lambda-describe-subnets-"
  description = "ec2:DescribeSubnets for the ${local.prefix} functions' VPC attachment"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "DescribeSubnetsForVpcAccess"
      Effect   = "Allow"
      Action   = ["ec2:DescribeSubnets"]
      Resource = "*"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "lambda_describe_subnets" {
  for_each = {
    function = aws_iam_role.function.name
    worker   = aws_iam_role.worker.name
    migrate  = aws_iam_role.migrate.name
  }

  role       = each.value
  policy_arn = aws_iam_policy.lambda_describe_subnets.arn
}

locals {
  # What both functions' roles may do: read their secrets, send mail as the
  # SES identity through the configuration set, use the key only through
  # Secrets Manager and SQS, and in IAM mode connect as the database user.
  function_shared_statements = concat(
    [
      {
        Sid      = "ReadOwnSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = local.function_secret_arns
      },
      {
        Sid      = "SendMailAsTheIdentity"
        Effect   = "Allow"
        Action   = ["ses:SendEmail"]
        Resource = local.ses_send_resources
      },
      {
        Sid      = "UseKeyThroughSecretsManagerAndSQS"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.main.arn]
        Condition = {
          StringEquals = {
            "kms:ViaService" = [
              "secretsmanager.${local.region}.amazonaws.com",
              "sqs.${local.region}.amazonaws.com",
            ]
          }
        }
      },
    ],
    var.database_iam_auth ? [
      {
        Sid      = "ConnectWithIAMToken"
        Effect   = "Allow"
        Action   = ["rds-db:connect"]
        Resource = [local.db_connect_arn]
      },
    ] : [],
  )

  function_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "WriteOwnLogGroup"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.function.arn}:*"]
        },
        {
          # Nudges to the worker, and failed asynchronous invocations to the
          # function's dead-letter queue.
          Sid      = "SendToOwnQueues"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [aws_sqs_queue.asset_events.arn, aws_sqs_queue.function_dlq.arn]
        },
      ],
      local.function_shared_statements,
      local.cdn_function_statements, # the origin secret, with the CDN (cdn.tf)
    )
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "icy-morning-least-privilege"
  role   = aws_iam_role.function.id
  policy = jsonencode(local.function_policy)
}

# --- the function -------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_lambda_function" "api" {
  function_name = local.function_name
  description   = "Icy Morning API (${var.stage})"
  role          = aws_iam_role.function.arn

  package_type     = var.package_type
  filename         = local.lambda_zip ? var.lambda_zip_path : null
  source_code_hash = local.lambda_zip_hash
  image_uri        = local.lambda_image_uri
  runtime          = local.lambda_zip ? "provided.al2023" : null
  handler          = local.lambda_zip ? "bootstrap" : null
  architectures    = [var.lambda_architecture]

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = local.api_reserved_concurrency
  # Each change publishes a version; traffic reaches it only through the
  # "live" alias below, after the migration has run.
  publish = true

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.function.id]
  }

  environment {
    variables = local.function_environment
  }

  lifecycle {
    precondition {
      condition     = local.api_reserved_concurrency != null
      error_message = "No memory figure for db_instance_class ${var.db_instance_class}: set lambda_reserved_concurrency (a number, or -1 for unreserved)."
    }
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    # The binary writes one JSON object per line itself (LOG_FORMAT=json).
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  depends_on = [
    aws_iam_role_policy.function,
    aws_iam_role_policy_attachment.function_managed,
    aws_iam_role_policy_attachment.lambda_describe_subnets,
    aws_ecr_repository_policy.lambda_pull,
  ]
}

# What API Gateway invokes. It moves to the new version only once the
# migration has succeeded on it (migrate.tf), so a failed migration fails the
# apply with the old version still serving the old schema.
resource "aws_lambda_alias" "api" {
  name             = "live"
  description      = "The version API Gateway serves: moves after the migration"
  function_name    = aws_lambda_function.api.function_name
  function_version = aws_lambda_function.api.version

  depends_on = [aws_lambda_invocation.migrate]
}

# Failed asynchronous invocations (nothing invokes the API function
# asynchronously today) land in the functions' dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "api" {
  function_name                = aws_lambda_function.api.function_name
  qualifier                    = aws_lambda_alias.api.name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.function_dlq.arn
    }
  }
}
