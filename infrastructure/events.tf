# Queues. asset_events is the nudge queue: after each change to an asset
# commits, the API function sends it a tiny message ({"nudge":"asset"}) and
# the worker function (worker.tf), fed by an event source mapping, mails the
# event's subscribers. The delivery log in the database is the source of
# truth, so a nudge only says "look now": a lost or expired one costs at most
# a minute, until the worker's schedule sweeps. function_dlq receives
# asynchronous invocations of either function that failed every retry.

resource "aws_sqs_queue" "asset_events_dlq" {
  name                      = "${local.prefix}-asset-events-dlq"
  kms_master_key_id         = aws_kms_key.main.arn
  message_retention_seconds = 1209600 # 14 days, the maximum: time to look at them
}

resource "aws_sqs_queue" "asset_events" {
  name                              = "${local.prefix}-asset-events"
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
  # A day: a nudge older than that points at deliveries the sweep has long
  # sent, and after an outage a short backlog drains faster.
  message_retention_seconds = 86400
  # At least six times the consumer's timeout, as AWS advises for Lambda
  # consumers, so a batch being retried is not handed out twice.
  visibility_timeout_seconds = 6 * var.worker_timeout_seconds
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
