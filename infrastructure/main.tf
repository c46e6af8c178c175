# Names, account facts and the one customer-managed KMS key that encrypts the
# database, its secrets, the queues, the alarm topic and every log group.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"

  # Local Zones and Wavelength Zones have no RDS; keep to ordinary zones.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  prefix     = "${var.name}-${var.stage}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.aws_region
  azs        = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  function_name = "${local.prefix}-api"
  # The same zip as the API function, invoked by the nudge queue, the sweep
  # schedule and SES's bounce and complaint events (see worker.tf).
  worker_function_name = "${local.prefix}-worker"
}

resource "aws_kms_key" "main" {
  description             = "${local.prefix}: RDS storage and secrets, SQS, SNS and CloudWatch Logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.kms_key_policy)
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.main.key_id
}

locals {
  # RDS, Secrets Manager, SQS and Lambda use the key on behalf of a caller whose
  # IAM policy allows it (the first statement delegates to IAM). CloudWatch Logs
  # and CloudWatch alarms (publishing to the encrypted SNS topic) act as
  # themselves and need their own statements.
  kms_key_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "AccountAdministersKeyThroughIAM"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsThisDeploymentsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
          }
        }
      },
      {
        # No source condition: AWS documents this statement without one, and a
        # condition the alarm service does not send would silence every alarm.
        # Only this account may publish to the topic (its default policy).
        Sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
      ],
      # With enable_cdn: CloudFront's log delivery, for the log bucket only (cdn.tf).
      local.cdn_kms_key_statements,
    )
  }
}
