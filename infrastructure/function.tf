# The icy-morning binary as a Lambda function (bootstrap on provided.al2023)
# in the private subnets, with a role that can read its secrets, send to its
# queues, send mail as the SES identity and write its own log group, and
# nothing more. The worker function (worker.tf) is the same zip and shares
# the environment and the statements built here.

locals {
  lambda_zip_hash = filebase64sha256(var.lambda_zip_path)

  # Named exactly as the binary reads them; values hold no secret. The
  # binary's Lambda mode insists on an API account even where nothing asks
  # for one (the worker), so both functions get the Basic auth secret.
  database_environment = merge(
    {
      DATABASE_URL          = local.database_url
      DB_MAX_CONNS          = tostring(var.db_max_conns)
      BASIC_AUTH_SECRET_ARN = aws_secretsmanager_secret.basic_auth.arn
      LOG_LEVEL             = var.log_level
      LOG_FORMAT            = "json"
    },
    var.database_iam_auth ? { DATABASE_IAM_AUTH = "true" } : { DATABASE_SECRET_ARN = local.db_master_secret_arn },
    # Through the proxy, prepared statements would pin each session to one
    # database connection; the exec mode sends plain extended-protocol queries.
    var.enable_rds_proxy ? { DB_QUERY_EXEC_MODE = "exec" } : {},
  )

  # Links in mails lead to the API: on its custom domain when there is one
  # (the URL people know), else on API Gateway's own endpoint.
  public_base_url = var.enable_custom_domain && var.api_gateway_domain != null ? "https://${coalesce(var.api_gateway_domain, "x.invalid")}/" : "${aws_apigatewayv2_api.main.api_endpoint}/"

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
  })

  function_secret_arns = concat(
    [aws_secretsmanager_secret.basic_auth.arn, aws_secretsmanager_secret.notify.arn],
    var.database_iam_auth ? [] : [local.db_master_secret_arn],
  )
}

# --- the Basic auth account -----------------------------------------------------
# The password comes from Secrets Manager's GetRandomPassword through the AWS
# provider (no other provider is needed). It is written once: later plans read
# a fresh random value, which ignore_changes discards. It is in the state, like
# every secret Terraform writes; keep the state private (see README.md).

resource "aws_secretsmanager_secret" "basic_auth" {
  name_prefix             = "${local.prefix}/basic-auth-"
  description             = "Basic auth account of the ${local.prefix} API: JSON {username, password}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

data "aws_secretsmanager_random_password" "basic_auth" {
  password_length     = 32
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "basic_auth" {
  secret_id = aws_secretsmanager_secret.basic_auth.id
  secret_string = jsonencode({
    username = var.basic_auth_username
    password = data.aws_secretsmanager_random_password.basic_auth.random_password
  })

  lifecycle {
    # Keep the first password; rotate deliberately with
    # terraform apply -replace=aws_secretsmanager_secret_version.basic_auth
    ignore_changes = [secret_string]
  }
}

# --- the link-signing key (NOTIFY_SECRET) ------------------------------------------
# Signs unsubscribe and confirmation links; both functions must hold the same
# key. 64 letters and digits from GetRandomPassword (about 380 bits; the
# binary wants 32 bytes or more), written once and kept like the Basic auth
# password, so links in mails already sent stay valid. Rotating it
# (-replace=aws_secretsmanager_secret_version.notify) voids those links.

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
# X-Ray segments: AWS's narrow managed policies for exactly that.
resource "aws_iam_role_policy_attachment" "function_managed" {
  for_each = toset([
    "service-role/AWSLambdaENIManagementAccess",
    "AWSXRayDaemonWriteAccess",
  ])

  role       = aws_iam_role.function.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
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

  filename         = var.lambda_zip_path
  source_code_hash = local.lambda_zip_hash
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.function.id]
  }

  environment {
    variables = local.function_environment
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
  ]
}

# Failed asynchronous invocations (nothing invokes the API function
# asynchronously today) land in the functions' dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "api" {
  function_name                = aws_lambda_function.api.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.function_dlq.arn
    }
  }
}

# --- migrations -------------------------------------------------------------------
# After every deploy of new code (and on a new database) Terraform invokes the
# function's migrate entry point once, synchronously. A migration failure is a
# function error, which fails the apply. `make migrate` runs it again by hand.

resource "aws_lambda_invocation" "migrate" {
  function_name = aws_lambda_function.api.function_name
  input         = jsonencode({ icy_morning = "migrate" })

  triggers = {
    code     = local.lambda_zip_hash
    database = aws_db_instance.main.resource_id
  }

  depends_on = [
    aws_vpc_endpoint.interface,
    aws_vpc_security_group_ingress_rule.database_from_client,
    aws_vpc_security_group_egress_rule.function_to_database,
    aws_vpc_security_group_egress_rule.function_to_endpoints,
    aws_vpc_security_group_ingress_rule.endpoints_from_function,
    aws_db_proxy_target.main,
    aws_secretsmanager_secret_version.basic_auth,
    aws_secretsmanager_secret_version.notify,
  ]
}
