# The migrate function: the same zip, run once per new zip (and on a new
# database) by the apply, before traffic moves. It is the only function that
# holds the master secret: it migrates the schema as the owner, then sets the
# password of the application role icy_app from the app secret (or, in IAM
# mode at the database, grants icy_app rds_iam: never the master user, whose
# password must keep working for the proxy and for emergencies).
#
# The deploy sequence of an apply:
#   1. the API, worker and migrate functions publish new versions (nothing
#      serves them yet: API Gateway and the worker's triggers call aliases);
#   2. aws_lambda_invocation.migrate invokes the migrate function's new
#      version; a failed migration fails the apply here;
#   3. the aliases ("live") of the API and worker functions move to the new
#      versions only after that invocation succeeded.

locals {
  migrate_function_name = "${local.prefix}-migrate"

  # Long enough for a first migration after the database (or the proxy
  # target, which Terraform reports registered before it is available)
  # comes up: the binary retries connecting for DB_WAIT, which stays well
  # under the timeout so the migration itself has time left.
  migrate_timeout_seconds = 300
  migrate_db_wait_seconds = 180
  migrate_db_max_conns    = 2

  migrate_environment = merge(
    {
      ICY_MORNING_FUNCTION = "migrate"
      DATABASE_URL         = local.migrate_database_url
      # Always the master password: IAM auth must never be the only way in
      # on the apply that creates the database.
      DATABASE_SECRET_ARN = local.db_master_secret_arn
      DB_WAIT             = "${local.migrate_db_wait_seconds}s"
      DB_MAX_CONNS        = tostring(local.migrate_db_max_conns)
      LOG_LEVEL           = var.log_level
      LOG_FORMAT          = "json"
    },
    local.app_db_iam_at_database ? { APP_DATABASE_IAM_AUTH = "true" } : { APP_DATABASE_SECRET_ARN = local.app_db_secret_arn },
    var.enable_rds_proxy ? { DB_QUERY_EXEC_MODE = "exec" } : {},
  )
}

# --- role ------------------------------------------------------------------------

resource "aws_iam_role" "migrate" {
  name_prefix = "${local.prefix}-migrate-"
  description = "Execution role of the ${local.migrate_function_name} function"
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

resource "aws_iam_role_policy_attachment" "migrate_managed" {
  for_each = toset([
    "service-role/AWSLambdaENIManagementAccess",
    "AWSXRayDaemonWriteAccess",
  ])

  role       = aws_iam_role.migrate.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

locals {
  migrate_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteOwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.migrate.arn}:*"]
      },
      {
        Sid      = "ReadDatabaseSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = compact([local.db_master_secret_arn, local.app_db_secret_arn])
      },
      {
        Sid      = "UseKeyThroughSecretsManager"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.main.arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "secretsmanager.${local.region}.amazonaws.com" }
        }
      },
    ]
  }
}

resource "aws_iam_role_policy" "migrate" {
  name   = "icy-morning-least-privilege"
  role   = aws_iam_role.migrate.id
  policy = jsonencode(local.migrate_policy)
}

# --- the function -------------------------------------------------------------

resource "aws_cloudwatch_log_group" "migrate" {
  name              = "/aws/lambda/${local.migrate_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_lambda_function" "migrate" {
  function_name = local.migrate_function_name
  description   = "Icy Morning schema migrations (${var.stage}); invoked by the apply"
  role          = aws_iam_role.migrate.arn

  package_type     = var.package_type
  filename         = local.lambda_zip ? var.lambda_zip_path : null
  source_code_hash = local.lambda_zip_hash
  image_uri        = local.lambda_image_uri
  runtime          = local.lambda_zip ? "provided.al2023" : null
  handler          = local.lambda_zip ? "bootstrap" : null
  architectures    = [var.lambda_architecture]

  memory_size = var.lambda_memory_mb
  timeout     = local.migrate_timeout_seconds
  publish     = true

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.function.id]
  }

  environment {
    variables = local.migrate_environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.migrate.name
  }

  lifecycle {
    precondition {
      condition     = local.migrate_db_wait_seconds < local.migrate_timeout_seconds
      error_message = "DB_WAIT must stay under the migrate function's timeout."
    }
  }

  depends_on = [
    aws_iam_role_policy.migrate,
    aws_iam_role_policy_attachment.migrate_managed,
    aws_iam_role_policy_attachment.lambda_describe_subnets,
    aws_ecr_repository_policy.lambda_pull,
  ]
}

# --- the invocation -----------------------------------------------------------------
# Synchronous, on the version just published (qualifier): a migration failure
# is a function error, which fails the apply before any alias moves.
# `make migrate` runs it again by hand. The depends_on list is everything on
# the path to the database: the endpoints (secrets), every security-group rule
# between the function, the proxy and the database, the proxy's target, and
# the app secret's value. aws_db_proxy_target returns when the target is
# registered, not when it is available; DB_WAIT covers the rest.

resource "aws_lambda_invocation" "migrate" {
  function_name = aws_lambda_function.migrate.function_name
  qualifier     = aws_lambda_function.migrate.version
  input         = jsonencode({ icy_morning = "migrate" })

  triggers = {
    code     = local.code_version
    database = aws_db_instance.main.resource_id
  }

  depends_on = [
    aws_vpc_endpoint.interface,
    aws_vpc_security_group_ingress_rule.database_from_client,
    aws_vpc_security_group_egress_rule.function_to_database,
    aws_vpc_security_group_egress_rule.function_to_endpoints,
    aws_vpc_security_group_ingress_rule.endpoints_from_function,
    aws_vpc_security_group_ingress_rule.proxy_from_function,
    aws_vpc_security_group_egress_rule.proxy_to_database,
    aws_vpc_security_group_egress_rule.proxy_to_endpoints,
    aws_vpc_security_group_ingress_rule.endpoints_from_proxy,
    aws_db_proxy_default_target_group.main,
    aws_db_proxy_target.main,
    aws_secretsmanager_secret_version.app_db,
  ]
}
