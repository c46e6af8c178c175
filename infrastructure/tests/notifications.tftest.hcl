# Notifications in AWS: the worker function and its three triggers (nudge
# queue, sweep schedule, SES bounces and complaints), the SES identity and
# configuration set, sending scoped to them, the link-signing secret, the SES
# endpoint, and the variables that would otherwise fail at send time.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
}

run "worker_is_the_same_binary_beside_the_api" {
  command = plan

  assert {
    condition = (
      aws_lambda_function.worker.function_name == "icy-morning-dev-worker" &&
      aws_lambda_function.worker.filename == aws_lambda_function.api.filename &&
      aws_lambda_function.worker.source_code_hash == aws_lambda_function.api.source_code_hash &&
      aws_lambda_function.worker.handler == "bootstrap" && aws_lambda_function.worker.runtime == "provided.al2023" &&
      aws_lambda_function.worker.architectures == aws_lambda_function.api.architectures
    )
    error_message = "The worker must run the API function's zip."
  }
  assert {
    condition     = toset(aws_lambda_function.worker.vpc_config[0].subnet_ids) == toset(aws_subnet.private[*].id) && toset(aws_lambda_function.worker.vpc_config[0].security_group_ids) == toset([aws_security_group.function.id])
    error_message = "The worker must run in the private subnets with the functions' security group (the database admits it)."
  }
  assert {
    condition     = aws_lambda_function.worker.timeout == 60 && aws_lambda_function.worker.tracing_config[0].mode == "Active"
    error_message = "The worker runs for worker_timeout_seconds, traced."
  }
  assert {
    condition     = aws_cloudwatch_log_group.worker.name == "/aws/lambda/icy-morning-dev-worker" && aws_cloudwatch_log_group.worker.retention_in_days == 30 && aws_cloudwatch_log_group.worker.kms_key_id == aws_kms_key.main.arn && aws_lambda_function.worker.logging_config[0].log_group == aws_cloudwatch_log_group.worker.name
    error_message = "The worker's log group must be Terraform's, with retention and the KMS key."
  }
  assert {
    condition     = aws_iam_role.worker.name_prefix == "icy-morning-dev-worker-" && jsondecode(aws_iam_role.worker.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "The worker must have a role of its own, for Lambda."
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.worker.destination_config[0].on_failure[0].destination == aws_sqs_queue.function_dlq.arn && aws_lambda_function_event_invoke_config.worker.maximum_retry_attempts == 2
    error_message = "Failed schedule and SES invocations must end in the functions' dead-letter queue."
  }
}

run "environments_for_mail" {
  command = plan

  assert {
    condition = (
      aws_lambda_function.api.environment[0].variables.MAIL_URL == "ses://?region=eu-west-1&configuration_set=icy-morning-dev" &&
      aws_lambda_function.worker.environment[0].variables.MAIL_URL == "ses://?region=eu-west-1&configuration_set=icy-morning-dev" &&
      aws_sesv2_configuration_set.main.configuration_set_name == "icy-morning-dev"
    )
    error_message = "Both functions must send through SES in the Region, with the configuration set Terraform creates."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.MAIL_FROM == "Icy Morning <notifications@example.com>" && aws_lambda_function.worker.environment[0].variables.MAIL_FROM == "Icy Morning <notifications@example.com>"
    error_message = "MAIL_FROM defaults to the verified address."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.PUBLIC_BASE_URL == "https://mockapi.execute-api.eu-west-1.amazonaws.com/" && aws_lambda_function.worker.environment[0].variables.PUBLIC_BASE_URL == "https://mockapi.execute-api.eu-west-1.amazonaws.com/"
    error_message = "Without a custom domain, links lead to API Gateway's endpoint."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.NOTIFY_SECRET_ARN == aws_secretsmanager_secret.notify.arn && aws_lambda_function.worker.environment[0].variables.NOTIFY_SECRET_ARN == aws_secretsmanager_secret.notify.arn
    error_message = "Both functions sign links with the one secret."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.NOTIFY_QUEUE_URL == aws_sqs_queue.asset_events.url && !contains(keys(aws_lambda_function.worker.environment[0].variables), "NOTIFY_QUEUE_URL")
    error_message = "Only the API function nudges the queue."
  }
  assert {
    # 14 per second over 2 queue instances and the sweep: 4 each.
    condition     = aws_lambda_function.worker.environment[0].variables.MAIL_MAX_PER_SECOND == "4" && aws_lambda_function.worker.environment[0].variables.MAIL_CONNECTIONS == "4"
    error_message = "The worker's send rate must be its share of the SES quota."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.MAIL_MAX_PER_SECOND == "1" && aws_lambda_function.api.environment[0].variables.MAIL_CONNECTIONS == "1"
    error_message = "The API function sends confirmations one at a time, at one a second."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.NOTIFY_CLAIM_TIMEOUT == "120s" && aws_lambda_function.worker.environment[0].variables.NOTIFY_CLAIM_TIMEOUT == "120s"
    error_message = "A claim lasts at least two minutes (twice the worker's timeout)."
  }
  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.DATABASE_URL == aws_lambda_function.api.environment[0].variables.DATABASE_URL && aws_lambda_function.worker.environment[0].variables.DATABASE_SECRET_ARN == aws_lambda_function.api.environment[0].variables.DATABASE_SECRET_ARN
    error_message = "The worker reaches the same database the same way."
  }
}

run "send_rate_and_timeouts_follow_the_variables" {
  command = plan

  variables {
    ses_max_send_rate      = 50
    worker_max_concurrency = 4
    worker_timeout_seconds = 120
  }

  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.MAIL_MAX_PER_SECOND == "10" && aws_lambda_event_source_mapping.nudges.scaling_config[0].maximum_concurrency == 4
    error_message = "50 per second over 4 queue instances and the sweep is 10 each."
  }
  assert {
    condition     = aws_sqs_queue.asset_events.visibility_timeout_seconds == 720 && aws_lambda_function.worker.timeout == 120
    error_message = "The nudge queue's visibility timeout must be six times the worker's timeout."
  }
  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.NOTIFY_CLAIM_TIMEOUT == "240s"
    error_message = "A claim must outlast twice the worker's timeout."
  }
}

run "sandbox_rate_still_sends" {
  command = plan

  variables {
    ses_max_send_rate = 1
  }

  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.MAIL_MAX_PER_SECOND == "1" && aws_lambda_function.worker.environment[0].variables.MAIL_CONNECTIONS == "1"
    error_message = "Each worker sends at least one mail a second."
  }
}

run "nudge_queue_feeds_the_worker" {
  command = plan

  assert {
    condition = (
      aws_lambda_event_source_mapping.nudges.event_source_arn == aws_sqs_queue.asset_events.arn &&
      aws_lambda_event_source_mapping.nudges.function_name == aws_lambda_alias.worker.arn
    )
    error_message = "The event source mapping must feed the nudge queue to the worker's live alias."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.nudges.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The worker must report failed items, so one bad nudge does not retry the batch."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.nudges.scaling_config[0].maximum_concurrency == 2
    error_message = "The mapping's maximum concurrency must follow worker_max_concurrency."
  }
  assert {
    condition     = aws_sqs_queue.asset_events.kms_master_key_id == aws_kms_key.main.arn && aws_sqs_queue.asset_events_dlq.kms_master_key_id == aws_kms_key.main.arn
    error_message = "The nudge queue and its dead-letter queue must be encrypted with the deployment's key."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.asset_events.redrive_policy).deadLetterTargetArn == aws_sqs_queue.asset_events_dlq.arn && jsondecode(aws_sqs_queue.asset_events.redrive_policy).maxReceiveCount == 5
    error_message = "Nudges the worker fails five times must go to the dead-letter queue."
  }
  assert {
    condition     = aws_sqs_queue.asset_events.visibility_timeout_seconds >= 6 * aws_lambda_function.worker.timeout
    error_message = "The visibility timeout must be at least six times the worker's timeout."
  }
  assert {
    condition     = aws_sqs_queue.asset_events_dlq.message_retention_seconds > aws_sqs_queue.asset_events.message_retention_seconds
    error_message = "Dead letters must outlive the messages they came from."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.main["asset-events-dlq-depth"].dimensions.QueueName == aws_sqs_queue.asset_events_dlq.name && aws_cloudwatch_metric_alarm.main["asset-events-dlq-depth"].metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.main["asset-events-dlq-depth"].threshold == 0
    error_message = "A nudge in the dead-letter queue must alarm."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.main["worker-errors"].dimensions.FunctionName == aws_lambda_function.worker.function_name && aws_cloudwatch_metric_alarm.main["worker-errors"].metric_name == "Errors"
    error_message = "Worker errors must alarm."
  }
}

run "sweep_every_minute" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_rule.sweep.schedule_expression == "rate(1 minute)"
    error_message = "The sweep runs every minute."
  }
  assert {
    condition     = aws_cloudwatch_event_target.sweep.rule == aws_cloudwatch_event_rule.sweep.name && aws_cloudwatch_event_target.sweep.arn == aws_lambda_alias.worker.arn && aws_cloudwatch_event_target.sweep.input == null
    error_message = "The schedule must invoke the worker with EventBridge's own Scheduled Event."
  }
  assert {
    condition     = aws_lambda_permission.sweep.function_name == aws_lambda_function.worker.function_name && aws_lambda_permission.sweep.qualifier == "live" && aws_lambda_permission.sweep.principal == "events.amazonaws.com" && aws_lambda_permission.sweep.source_arn == aws_cloudwatch_event_rule.sweep.arn
    error_message = "EventBridge may invoke the worker for this rule only."
  }
}

run "ses_feedback_reaches_the_worker" {
  command = plan

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.ses_feedback.event_pattern) == {
      source        = ["aws.ses"]
      "detail-type" = ["Email Bounced", "Email Complaint Received"]
      detail        = { mail = { tags = { "ses:configuration-set" = ["icy-morning-dev"] } } }
    }
    error_message = "The rule must take this stage's SES bounces and complaints."
  }
  assert {
    condition     = aws_cloudwatch_event_target.ses_feedback.arn == aws_lambda_alias.worker.arn && aws_lambda_permission.ses_feedback.qualifier == "live" && aws_lambda_permission.ses_feedback.source_arn == aws_cloudwatch_event_rule.ses_feedback.arn && aws_lambda_permission.ses_feedback.principal == "events.amazonaws.com"
    error_message = "SES events must invoke the worker, allowed for this rule only."
  }
  assert {
    condition = (
      aws_sesv2_configuration_set_event_destination.eventbridge.configuration_set_name == aws_sesv2_configuration_set.main.configuration_set_name &&
      aws_sesv2_configuration_set_event_destination.eventbridge.event_destination[0].enabled &&
      toset(aws_sesv2_configuration_set_event_destination.eventbridge.event_destination[0].matching_event_types) == toset(["BOUNCE", "COMPLAINT"]) &&
      aws_sesv2_configuration_set_event_destination.eventbridge.event_destination[0].event_bridge_destination[0].event_bus_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/default"
    )
    error_message = "The configuration set must publish bounces and complaints to the default event bus."
  }
  assert {
    condition     = toset(aws_sesv2_configuration_set.main.suppression_options[0].suppressed_reasons) == toset(["BOUNCE", "COMPLAINT"])
    error_message = "SES must suppress addresses that bounced or complained."
  }
  assert {
    condition     = aws_sesv2_email_identity.sender.configuration_set_name == aws_sesv2_configuration_set.main.configuration_set_name
    error_message = "The identity's default configuration set must be ours, so no mail escapes it."
  }
}

run "sending_is_scoped_to_the_identity_and_configuration_set" {
  command = plan

  assert {
    condition = alltrue([
      for p in [aws_iam_role_policy.function.policy, aws_iam_role_policy.worker.policy] :
      toset(one([for s in jsondecode(p).Statement : s.Resource if s.Sid == "SendMailAsTheIdentity"])) == toset([aws_sesv2_email_identity.sender.arn, aws_sesv2_configuration_set.main.arn])
    ])
    error_message = "Both roles may send only as the identity, through the configuration set."
  }
  assert {
    condition = alltrue([
      for p in [aws_iam_role_policy.function.policy, aws_iam_role_policy.worker.policy] :
      one([for s in jsondecode(p).Statement : s.Action if s.Sid == "SendMailAsTheIdentity"]) == ["ses:SendEmail"]
    ])
    error_message = "Sending is ses:SendEmail (the SES v2 API) and nothing else."
  }
  assert {
    condition = alltrue(flatten([
      for p in [aws_iam_role_policy.function.policy, aws_iam_role_policy.worker.policy] : [
        for s in jsondecode(p).Statement : [
          for r in flatten([s.Resource]) : r != "*" && !endswith(r, "/*")
        ]
      ]
    ]))
    error_message = "No statement of either role may grant on every resource, or every identity."
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : [for a in flatten([s.Action]) : !endswith(a, "*")]
    ]))
    error_message = "No statement of the worker's policy may use a wildcard action."
  }
  assert {
    condition = (
      toset(one([for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s.Action if s.Sid == "ConsumeNudgeQueue"])) == toset(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) &&
      one([for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s.Resource if s.Sid == "ConsumeNudgeQueue"]) == [aws_sqs_queue.asset_events.arn] &&
      one([for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s.Resource if s.Sid == "SendToOwnQueues"]) == [aws_sqs_queue.function_dlq.arn] &&
      one([for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s.Resource if s.Sid == "WriteOwnLogGroup"]) == ["${aws_cloudwatch_log_group.worker.arn}:*"]
    )
    error_message = "The worker may consume the nudge queue, park failures in the functions' DLQ and write its own log group."
  }
}

run "link_secret_is_encrypted_and_shared_by_the_two_roles_only" {
  command = plan

  assert {
    condition     = aws_secretsmanager_secret.notify.kms_key_id == aws_kms_key.main.arn
    error_message = "The link-signing secret must be encrypted with the deployment's key."
  }
  assert {
    condition     = aws_secretsmanager_secret_version.notify.secret_string == "MockGeneratedPasswordForPlansOnly" && data.aws_secretsmanager_random_password.notify.password_length >= 32
    error_message = "The key comes from Secrets Manager's generator, 32 characters or more."
  }
  assert {
    condition = alltrue([
      for p in [aws_iam_role_policy.function.policy, aws_iam_role_policy.worker.policy] :
      contains(one([for s in jsondecode(p).Statement : s.Resource if s.Sid == "ReadOwnSecrets"]), aws_secretsmanager_secret.notify.arn)
    ])
    error_message = "Both functions' roles must read the link-signing secret."
  }
}

run "address_identity" {
  command = plan

  assert {
    condition     = aws_sesv2_email_identity.sender.email_identity == "notifications@example.com" && length(aws_sesv2_email_identity.sender.dkim_signing_attributes) == 0
    error_message = "ses_sender_address verifies that one address, without DKIM settings."
  }
  assert {
    condition     = length(aws_route53_record.dkim) == 0 && output.ses_dkim_records == []
    error_message = "An address identity has no DKIM records."
  }
  assert {
    condition     = length(aws_sesv2_email_identity.sandbox_recipient) == 0
    error_message = "No sandbox recipients unless asked for."
  }
}

run "domain_identity_with_dkim_records" {
  command = plan

  variables {
    ses_sender_address  = null
    ses_sender_domain   = "example.com"
    ses_route53_zone_id = "Z0123456789ABCDEFGHIJ"
    mail_from           = "Asset news <news@mail.example.com>"
  }

  override_resource {
    target          = aws_sesv2_email_identity.sender
    override_during = plan
    values = {
      arn = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
      # The mock fills in each block of the configuration from this object.
      dkim_signing_attributes = { tokens = ["tokena", "tokenb", "tokenc"] }
    }
  }

  assert {
    condition     = aws_sesv2_email_identity.sender.email_identity == "example.com" && aws_sesv2_email_identity.sender.dkim_signing_attributes[0].next_signing_key_length == "RSA_2048_BIT"
    error_message = "ses_sender_domain verifies the domain with 2048-bit Easy DKIM."
  }
  assert {
    condition     = length(aws_route53_record.dkim) == 3 && alltrue([for r in aws_route53_record.dkim : r.zone_id == "Z0123456789ABCDEFGHIJ" && r.type == "CNAME"])
    error_message = "With a zone, Terraform writes the three DKIM CNAME records in it."
  }
  assert {
    condition = [for r in aws_route53_record.dkim : { name = r.name, value = one(r.records) }] == [
      { name = "tokena._domainkey.example.com", value = "tokena.dkim.amazonses.com" },
      { name = "tokenb._domainkey.example.com", value = "tokenb.dkim.amazonses.com" },
      { name = "tokenc._domainkey.example.com", value = "tokenc.dkim.amazonses.com" },
    ]
    error_message = "Each DKIM record points <token>._domainkey.<domain> at <token>.dkim.amazonses.com."
  }
  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.MAIL_FROM == "Asset news <news@mail.example.com>"
    error_message = "mail_from reaches the functions."
  }
  assert {
    condition = alltrue([
      for p in [aws_iam_role_policy.function.policy, aws_iam_role_policy.worker.policy] :
      contains(one([for s in jsondecode(p).Statement : s.Resource if s.Sid == "SendMailAsTheIdentity"]), "arn:aws:ses:eu-west-1:123456789012:identity/example.com")
    ])
    error_message = "Sending is allowed as the domain identity."
  }
}

run "domain_identity_without_a_zone" {
  command = plan

  variables {
    ses_sender_address = null
    ses_sender_domain  = "example.com"
  }

  assert {
    condition     = length(aws_route53_record.dkim) == 0
    error_message = "Without a zone the DKIM records are left to the operator (output ses_dkim_records)."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.MAIL_FROM == "Icy Morning <notifications@example.com>"
    error_message = "MAIL_FROM defaults to notifications@ the domain."
  }
}

run "links_use_the_custom_domain" {
  command = plan

  variables {
    enable_custom_domain = true
    api_gateway_domain   = "api.example.com"
    certificates_dir     = "tests/fixtures/certs"
  }

  assert {
    condition     = aws_lambda_function.api.environment[0].variables.PUBLIC_BASE_URL == "https://api.example.com/" && aws_lambda_function.worker.environment[0].variables.PUBLIC_BASE_URL == "https://api.example.com/"
    error_message = "With a custom domain, links in mails use it."
  }
}

run "sandbox_recipients_are_verified_and_allowed" {
  command = plan

  variables {
    ses_sandbox_recipients = ["ada@example.org", "bob@example.org"]
  }

  override_resource {
    target          = aws_sesv2_email_identity.sandbox_recipient["ada@example.org"]
    override_during = plan
    values          = { arn = "arn:aws:ses:eu-west-1:123456789012:identity/ada@example.org" }
  }
  override_resource {
    target          = aws_sesv2_email_identity.sandbox_recipient["bob@example.org"]
    override_during = plan
    values          = { arn = "arn:aws:ses:eu-west-1:123456789012:identity/bob@example.org" }
  }

  assert {
    condition     = toset(keys(aws_sesv2_email_identity.sandbox_recipient)) == toset(["ada@example.org", "bob@example.org"])
    error_message = "Each sandbox recipient becomes an identity (SES mails it a verification link)."
  }
  assert {
    condition = toset(one([
      for s in jsondecode(aws_iam_role_policy.worker.policy).Statement : s.Resource if s.Sid == "SendMailAsTheIdentity"
      ])) == toset([
      aws_sesv2_email_identity.sender.arn, aws_sesv2_configuration_set.main.arn,
      "arn:aws:ses:eu-west-1:123456789012:identity/ada@example.org", "arn:aws:ses:eu-west-1:123456789012:identity/bob@example.org",
    ])
    error_message = "In the sandbox the send permission names the recipients' identities too."
  }
}

run "ses_api_through_an_interface_endpoint" {
  command = plan

  assert {
    condition     = aws_vpc_endpoint.interface["email"].service_name == "com.amazonaws.eu-west-1.email" && aws_vpc_endpoint.interface["email"].private_dns_enabled && aws_vpc_endpoint.interface["email"].vpc_endpoint_type == "Interface"
    error_message = "The functions reach the SES v2 API (email, not email-smtp) through an interface endpoint with private DNS."
  }
  assert {
    condition     = toset(aws_vpc_endpoint.interface["email"].security_group_ids) == toset([aws_security_group.endpoints.id]) && toset(aws_vpc_endpoint.interface["email"].subnet_ids) == toset(aws_subnet.private[*].id)
    error_message = "The SES endpoint sits in the private subnets behind the endpoints' security group."
  }
}

run "ses_through_nat_where_there_is_no_endpoint" {
  command = plan

  variables {
    enable_ses_endpoint = false
    enable_nat_gateway  = true
  }

  assert {
    condition     = !contains(keys(aws_vpc_endpoint.interface), "email") && length(aws_nat_gateway.main) == 1 && length(aws_vpc_security_group_egress_rule.function_to_internet) == 1
    error_message = "Without the SES endpoint, SES is reached through the NAT gateway."
  }
}

# --- values that would fail at send time fail at plan -------------------------------

run "no_sender" {
  command = plan
  variables {
    ses_sender_address = null
  }
  expect_failures = [var.ses_sender_domain]
}

run "two_senders" {
  command = plan
  variables {
    ses_sender_domain = "example.com"
  }
  expect_failures = [var.ses_sender_domain]
}

run "sender_with_a_display_name" {
  command = plan
  variables {
    ses_sender_address = "Icy <notifications@example.com>"
  }
  expect_failures = [var.ses_sender_address]
}

run "mail_from_another_address" {
  command = plan
  variables {
    mail_from = "Icy Morning <someone@example.com>"
  }
  expect_failures = [var.mail_from]
}

run "mail_from_another_domain" {
  command = plan
  variables {
    ses_sender_address = null
    ses_sender_domain  = "example.com"
    mail_from          = "news@notexample.com"
  }
  expect_failures = [var.mail_from]
}

run "zone_without_a_domain" {
  command = plan
  variables {
    ses_route53_zone_id = "Z0123456789ABCDEFGHIJ"
  }
  expect_failures = [var.ses_route53_zone_id]
}

run "one_worker" {
  command = plan
  variables {
    worker_max_concurrency = 1
  }
  expect_failures = [var.worker_max_concurrency]
}

run "no_send_rate" {
  command = plan
  variables {
    ses_max_send_rate = 0
  }
  expect_failures = [var.ses_max_send_rate]
}

run "worker_timeout_past_lambdas_limit" {
  command = plan
  variables {
    worker_timeout_seconds = 901
  }
  expect_failures = [var.worker_timeout_seconds]
}

run "no_way_to_ses" {
  command = plan
  variables {
    enable_ses_endpoint = false
  }
  expect_failures = [var.enable_ses_endpoint]
}
