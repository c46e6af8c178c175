# The notifications worker: the API function's zip, a second function that
# sends the mails. The binary tells its three kinds of invocation apart by
# their shape:
#   - SQS batches of nudges from the asset-events queue ("an asset changed,
#     mail now"), failing only the messages it could not handle
#     (ReportBatchItemFailures);
#   - EventBridge's "Scheduled Event" every minute, which sweeps deliveries
#     whose nudge was lost and retries failed ones, so a lost nudge delays a
#     mail by a minute at most;
#   - SES's "Email Bounced" and "Email Complaint Received" events, which mark
#     the address suppressed.
# It runs beside the API function (same subnets and security group: it needs
# the database) with a role of its own.

locals {
  # Each worker instance sends at most this many mails a second, so that all
  # of them together stay under the account's SES rate: the queue runs up
  # to worker_max_concurrency instances and the schedule one more.
  worker_mail_per_second = max(1, floor(var.ses_max_send_rate / (var.worker_max_concurrency + 1)))

  worker_environment = merge(local.database_environment, local.mail_environment, {
    MAIL_MAX_PER_SECOND = tostring(local.worker_mail_per_second)
    # More mails in flight than a second's worth gains nothing under the cap.
    MAIL_CONNECTIONS = tostring(min(4, local.worker_mail_per_second))
  }, local.cdn_worker_environment) # CACHE_*, and CDN_DISTRIBUTION_ID with the CDN (cdn.tf)
}

# --- role ------------------------------------------------------------------------

resource "aws_iam_role" "worker" {
  name_prefix = "${local.prefix}-worker-"
  description = "Execution role of the ${local.worker_function_name} function"
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

resource "aws_iam_role_policy_attachment" "worker_managed" {
  for_each = toset([
    "service-role/AWSLambdaENIManagementAccess",
    "AWSXRayDaemonWriteAccess",
  ])

  role       = aws_iam_role.worker.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

locals {
  worker_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "WriteOwnLogGroup"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.worker.arn}:*"]
        },
        {
          # What Lambda's poller does with the execution role's rights
          # (AWS's managed policy for it grants them on every queue).
          Sid      = "ConsumeNudgeQueue"
          Effect   = "Allow"
          Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
          Resource = [aws_sqs_queue.asset_events.arn]
        },
        {
          # Failed asynchronous invocations (schedule, SES events).
          Sid      = "SendToOwnQueues"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [aws_sqs_queue.function_dlq.arn]
        },
      ],
      local.function_shared_statements,
      local.cdn_worker_statements, # invalidations, with the CDN (cdn.tf)
    )
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "icy-morning-least-privilege"
  role   = aws_iam_role.worker.id
  policy = jsonencode(local.worker_policy)
}

# --- the function -------------------------------------------------------------

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/aws/lambda/${local.worker_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_lambda_function" "worker" {
  function_name = local.worker_function_name
  description   = "Icy Morning notifications worker (${var.stage})"
  role          = aws_iam_role.worker.arn

  package_type     = var.package_type
  filename         = local.lambda_zip ? var.lambda_zip_path : null
  source_code_hash = local.lambda_zip_hash
  image_uri        = local.lambda_image_uri
  runtime          = local.lambda_zip ? "provided.al2023" : null
  handler          = local.lambda_zip ? "bootstrap" : null
  architectures    = [var.lambda_architecture]

  memory_size = var.lambda_memory_mb
  timeout     = var.worker_timeout_seconds
  # Triggers call the "live" alias, which moves after the migration.
  publish = true

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.function.id]
  }

  environment {
    variables = local.worker_environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.worker.name
  }

  depends_on = [
    aws_iam_role_policy.worker,
    aws_iam_role_policy_attachment.worker_managed,
    aws_iam_role_policy_attachment.lambda_describe_subnets,
    aws_ecr_repository_policy.lambda_pull,
  ]
}

# What the queue, the schedule and SES's events invoke: new code reaches them
# only after the schema it expects exists.
resource "aws_lambda_alias" "worker" {
  name             = "live"
  description      = "The version the triggers invoke: moves after the migration"
  function_name    = aws_lambda_function.worker.function_name
  function_version = aws_lambda_function.worker.version

  depends_on = [aws_lambda_invocation.migrate]
}

# The schedule and SES events invoke the worker asynchronously: Lambda
# retries a failed invocation twice, then parks it in the functions'
# dead-letter queue (which alarms). A bounce lost this way would leave an
# address unsuppressed, so they are kept for six hours of retries.
resource "aws_lambda_function_event_invoke_config" "worker" {
  function_name                = aws_lambda_function.worker.function_name
  qualifier                    = aws_lambda_alias.worker.name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.function_dlq.arn
    }
  }
}

# --- nudges from the asset-events queue ------------------------------------------------

resource "aws_lambda_event_source_mapping" "nudges" {
  event_source_arn = aws_sqs_queue.asset_events.arn
  function_name    = aws_lambda_alias.worker.arn
  # A nudge only says "look now": a batch of them costs one look, and a
  # second's wait gathers a burst of changes into one invocation.
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  # The worker names the messages it could not handle; the rest are deleted.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.worker_max_concurrency
  }

  depends_on = [aws_iam_role_policy.worker]
}

# --- the sweep, every minute ----------------------------------------------------------

resource "aws_cloudwatch_event_rule" "sweep" {
  name                = "${local.prefix}-notify-sweep"
  description         = "Every minute: ${local.worker_function_name} mails what lost its nudge and retries failed deliveries"
  schedule_expression = "rate(1 minute)"
}

# No input: the worker receives EventBridge's own Scheduled Event
# (source aws.events), which is how it knows to sweep.
resource "aws_cloudwatch_event_target" "sweep" {
  rule      = aws_cloudwatch_event_rule.sweep.name
  target_id = "worker"
  arn       = aws_lambda_alias.worker.arn
}

resource "aws_lambda_permission" "sweep" {
  statement_id  = "AllowInvokeFromSweepSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.worker.function_name
  qualifier     = aws_lambda_alias.worker.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.sweep.arn
}

# --- SES bounces and complaints ---------------------------------------------------------

resource "aws_cloudwatch_event_rule" "ses_feedback" {
  name        = "${local.prefix}-ses-feedback"
  description = "SES bounces and complaints of mail sent through ${local.ses_configuration_set_name}, to ${local.worker_function_name}"
  # The default bus carries every SES event of the account and Region; the
  # configuration-set tag SES puts on each keeps other stages' out.
  event_pattern = jsonencode({
    source        = ["aws.ses"]
    "detail-type" = ["Email Bounced", "Email Complaint Received"]
    detail = {
      mail = {
        tags = { "ses:configuration-set" = [local.ses_configuration_set_name] }
      }
    }
  })
}

resource "aws_cloudwatch_event_target" "ses_feedback" {
  rule      = aws_cloudwatch_event_rule.ses_feedback.name
  target_id = "worker"
  arn       = aws_lambda_alias.worker.arn
}

resource "aws_lambda_permission" "ses_feedback" {
  statement_id  = "AllowInvokeFromSESFeedback"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.worker.function_name
  qualifier     = aws_lambda_alias.worker.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.ses_feedback.arn
}
