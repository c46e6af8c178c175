# Alarms on what breaks first (API errors and latency, function errors,
# throttles, duration and concurrency, database CPU, connections and storage,
# dead letters, worker errors, SES bounce and complaint rates), all to one
# encrypted SNS topic, and a dashboard of the same.

resource "aws_sns_topic" "alarms" {
  name              = "${local.prefix}-alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  api_dimensions    = { ApiId = aws_apigatewayv2_api.main.id, Stage = "$default" }
  lambda_dimensions = { FunctionName = aws_lambda_function.api.function_name }
  worker_dimensions = { FunctionName = aws_lambda_function.worker.function_name }
  db_dimensions     = { DBInstanceIdentifier = aws_db_instance.main.identifier }

  thresholds = merge(var.alarm_thresholds, {
    lambda_duration_ms = coalesce(var.alarm_thresholds.lambda_duration_ms, var.lambda_timeout_seconds * 800)
  })

  # One entry per alarm. stat is a statistic (Sum, Average, Maximum, Minimum)
  # or a percentile (p99).
  alarms = {
    api-5xx = {
      description = "API answered 5xx more than ${local.thresholds.api_5xx_count} times in 5 minutes"
      namespace   = "AWS/ApiGateway", metric = "5xx", dimensions = local.api_dimensions
      stat        = "Sum", comparison = "GreaterThanThreshold", threshold = local.thresholds.api_5xx_count
    }
    api-4xx = {
      description = "API answered 4xx more than ${local.thresholds.api_4xx_count} times in 5 minutes (clients failing, or someone probing)"
      namespace   = "AWS/ApiGateway", metric = "4xx", dimensions = local.api_dimensions
      stat        = "Sum", comparison = "GreaterThanThreshold", threshold = local.thresholds.api_4xx_count
    }
    api-latency-p99 = {
      description = "API p99 latency above ${local.thresholds.api_latency_p99_ms} ms"
      namespace   = "AWS/ApiGateway", metric = "Latency", dimensions = local.api_dimensions
      stat        = "p99", comparison = "GreaterThanThreshold", threshold = local.thresholds.api_latency_p99_ms
    }
    lambda-errors = {
      description = "Function errors (crashes, timeouts, failed migrations) above ${local.thresholds.lambda_errors} in 5 minutes"
      namespace   = "AWS/Lambda", metric = "Errors", dimensions = local.lambda_dimensions
      stat        = "Sum", comparison = "GreaterThanThreshold", threshold = local.thresholds.lambda_errors
    }
    lambda-throttles = {
      description = "Function invocations throttled (concurrency limit reached)"
      namespace   = "AWS/Lambda", metric = "Throttles", dimensions = local.lambda_dimensions
      stat        = "Sum", comparison = "GreaterThanOrEqualToThreshold", threshold = local.thresholds.lambda_throttles
    }
    lambda-duration-p99 = {
      description = "Function p99 duration above ${local.thresholds.lambda_duration_ms} ms (timeout ${var.lambda_timeout_seconds} s)"
      namespace   = "AWS/Lambda", metric = "Duration", dimensions = local.lambda_dimensions
      stat        = "p99", comparison = "GreaterThanThreshold", threshold = local.thresholds.lambda_duration_ms
    }
    lambda-concurrency = {
      description = "Function concurrent executions above ${local.thresholds.lambda_concurrent_executions} (each holds up to ${var.db_max_conns} database connections)"
      namespace   = "AWS/Lambda", metric = "ConcurrentExecutions", dimensions = local.lambda_dimensions
      stat        = "Maximum", comparison = "GreaterThanThreshold", threshold = local.thresholds.lambda_concurrent_executions
    }
    db-cpu = {
      description = "Database CPU above ${local.thresholds.db_cpu_percent}%"
      namespace   = "AWS/RDS", metric = "CPUUtilization", dimensions = local.db_dimensions
      stat        = "Average", comparison = "GreaterThanThreshold", threshold = local.thresholds.db_cpu_percent
    }
    db-connections = {
      description = "Database connections above ${local.thresholds.db_connections}"
      namespace   = "AWS/RDS", metric = "DatabaseConnections", dimensions = local.db_dimensions
      stat        = "Maximum", comparison = "GreaterThanThreshold", threshold = local.thresholds.db_connections
    }
    db-free-storage = {
      description = "Database free storage below ${local.thresholds.db_free_storage_gb} GB"
      namespace   = "AWS/RDS", metric = "FreeStorageSpace", dimensions = local.db_dimensions
      stat        = "Minimum", comparison = "LessThanThreshold", threshold = local.thresholds.db_free_storage_gb * 1073741824
    }
    asset-events-dlq-depth = {
      description = "Nudges in the asset-events dead-letter queue: the worker failed them ${var.asset_events_max_receive_count} times (the sweep still mails their deliveries; look at the worker's errors)"
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = aws_sqs_queue.asset_events_dlq.name }
      stat        = "Maximum", comparison = "GreaterThanThreshold", threshold = 0
    }
    function-dlq-depth = {
      description = "Failed asynchronous invocations (sweeps, SES bounces and complaints not yet suppressed) in the functions' dead-letter queue"
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = aws_sqs_queue.function_dlq.name }
      stat        = "Maximum", comparison = "GreaterThanThreshold", threshold = 0
    }
    worker-errors = {
      description = "Worker errors (crashes, timeouts, failed sweeps or SES events) above ${local.thresholds.worker_errors} in 5 minutes"
      namespace   = "AWS/Lambda", metric = "Errors", dimensions = local.worker_dimensions
      stat        = "Sum", comparison = "GreaterThanThreshold", threshold = local.thresholds.worker_errors
    }
    # Account-wide rates SES watches: it reviews, then pauses, an account whose
    # bounces pass 10% or complaints 0.5%; these fire well before.
    ses-bounce-rate = {
      description = "SES bounce rate above ${local.thresholds.ses_bounce_rate * 100}% (SES reviews the account at 5% and may pause sending at 10%)"
      namespace   = "AWS/SES", metric = "Reputation.BounceRate", dimensions = {}
      stat        = "Maximum", comparison = "GreaterThanThreshold", threshold = local.thresholds.ses_bounce_rate
    }
    ses-complaint-rate = {
      description = "SES complaint rate above ${local.thresholds.ses_complaint_rate * 100}% (SES reviews the account at 0.1% and may pause sending at 0.5%)"
      namespace   = "AWS/SES", metric = "Reputation.ComplaintRate", dimensions = {}
      stat        = "Maximum", comparison = "GreaterThanThreshold", threshold = local.thresholds.ses_complaint_rate
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "main" {
  for_each = local.alarms

  alarm_name          = "${local.prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = startswith(each.value.stat, "p") ? null : each.value.stat
  extended_statistic  = startswith(each.value.stat, "p") ? each.value.stat : null
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = 300
  evaluation_periods  = 1
  # No traffic is not a failure; a database that stops reporting is.
  treat_missing_data = each.value.namespace == "AWS/RDS" ? "breaching" : "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# --- dashboard -----------------------------------------------------------------------

locals {
  # A time-series widget: metrics is a list of [namespace, metric, dimensions, stat, label].
  dashboard_metrics = [
    { title = "API requests and errors", metrics = [
      ["AWS/ApiGateway", "Count", local.api_dimensions, "Sum", "requests"],
      ["AWS/ApiGateway", "4xx", local.api_dimensions, "Sum", "4xx"],
      ["AWS/ApiGateway", "5xx", local.api_dimensions, "Sum", "5xx"],
    ] },
    { title = "API latency (ms)", metrics = [
      ["AWS/ApiGateway", "Latency", local.api_dimensions, "p50", "p50"],
      ["AWS/ApiGateway", "Latency", local.api_dimensions, "p99", "p99"],
      ["AWS/ApiGateway", "IntegrationLatency", local.api_dimensions, "p99", "integration p99"],
    ] },
    { title = "Function errors and throttles", metrics = [
      ["AWS/Lambda", "Invocations", local.lambda_dimensions, "Sum", "invocations"],
      ["AWS/Lambda", "Errors", local.lambda_dimensions, "Sum", "errors"],
      ["AWS/Lambda", "Throttles", local.lambda_dimensions, "Sum", "throttles"],
    ] },
    { title = "Function duration (ms)", metrics = [
      ["AWS/Lambda", "Duration", local.lambda_dimensions, "p50", "p50"],
      ["AWS/Lambda", "Duration", local.lambda_dimensions, "p99", "p99"],
      ["AWS/Lambda", "Duration", local.lambda_dimensions, "Maximum", "max"],
    ] },
    { title = "Function concurrent executions", metrics = [
      ["AWS/Lambda", "ConcurrentExecutions", local.lambda_dimensions, "Maximum", "concurrent"],
    ] },
    { title = "Database CPU (%)", metrics = [
      ["AWS/RDS", "CPUUtilization", local.db_dimensions, "Average", "CPU"],
    ] },
    { title = "Database connections", metrics = [
      ["AWS/RDS", "DatabaseConnections", local.db_dimensions, "Maximum", "connections"],
    ] },
    { title = "Database free storage (bytes)", metrics = [
      ["AWS/RDS", "FreeStorageSpace", local.db_dimensions, "Minimum", "free storage"],
    ] },
    { title = "Dead-letter queues (messages)", metrics = [
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName = aws_sqs_queue.asset_events_dlq.name }, "Maximum", "asset events DLQ"],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName = aws_sqs_queue.function_dlq.name }, "Maximum", "function DLQ"],
    ] },
    { title = "Worker invocations and errors", metrics = [
      ["AWS/Lambda", "Invocations", local.worker_dimensions, "Sum", "invocations"],
      ["AWS/Lambda", "Errors", local.worker_dimensions, "Sum", "errors"],
      ["AWS/Lambda", "Throttles", local.worker_dimensions, "Sum", "throttles"],
      ["AWS/SQS", "NumberOfMessagesSent", { QueueName = aws_sqs_queue.asset_events.name }, "Sum", "nudges"],
    ] },
    { title = "SES sends, bounces and complaints (account)", metrics = [
      ["AWS/SES", "Send", {}, "Sum", "sent"],
      ["AWS/SES", "Bounce", {}, "Sum", "bounces"],
      ["AWS/SES", "Complaint", {}, "Sum", "complaints"],
    ] },
  ]

  dashboard_widgets = concat(
    [
      {
        type = "alarm", x = 0, y = 0, width = 24, height = 3
        properties = {
          title = "Alarms"
          # Built from the names, so the body is known at plan time.
          alarms = [for k, a in aws_cloudwatch_metric_alarm.main : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${a.alarm_name}"]
        }
      },
    ],
    [
      for i, w in local.dashboard_metrics : {
        type = "metric", x = (i % 2) * 12, y = 3 + floor(i / 2) * 6, width = 12, height = 6
        properties = {
          title  = w.title
          region = local.region
          view   = "timeSeries"
          period = 300
          # CloudWatch's form: namespace, metric, then dimension name/value
          # pairs, then the rendering options.
          metrics = [
            for m in w.metrics : concat(
              [m[0], m[1]],
              flatten([for k, v in m[2] : [k, v]]),
              [{ stat = m[3], label = m[4] }],
            )
          ]
        }
      }
    ],
  )
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
