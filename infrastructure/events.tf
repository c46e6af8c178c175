# Queues. asset_events is wired and ready for the notifications issue: the
# function may already send to it, and that issue adds the queue URL to the
# function's environment when the binary reads one. function_dlq receives
# asynchronous invocations of the function that failed every retry.

resource "aws_sqs_queue" "asset_events_dlq" {
  name                      = "${local.prefix}-asset-events-dlq"
  kms_master_key_id         = aws_kms_key.main.arn
  message_retention_seconds = 1209600 # 14 days, the maximum: time to look at them
}

resource "aws_sqs_queue" "asset_events" {
  name                              = "${local.prefix}-asset-events"
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
  message_retention_seconds         = 345600 # 4 days
  # At least six times the consumer's timeout, as AWS advises for Lambda consumers.
  visibility_timeout_seconds = 6 * var.lambda_timeout_seconds
  receive_wait_time_seconds  = 20

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.asset_events_dlq.arn
    maxReceiveCount     = var.asset_events_max_receive_count
  })
}

# Only asset_events may use the dead-letter queue as its redrive target.
resource "aws_sqs_queue_redrive_allow_policy" "asset_events_dlq" {
  queue_url = aws_sqs_queue.asset_events_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.asset_events.arn]
  })
}

resource "aws_sqs_queue" "function_dlq" {
  name                      = "${local.prefix}-function-dlq"
  kms_master_key_id         = aws_kms_key.main.arn
  message_retention_seconds = 1209600
}
