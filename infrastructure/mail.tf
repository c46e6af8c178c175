# Amazon SES: the verified identity the functions send from, a configuration
# set that suppresses addresses that bounced or complained, and the bounce and
# complaint events it publishes to EventBridge's default bus, where the
# worker's rule (worker.tf) picks them up.

locals {
  # Exactly one of the two is set (variables.tf checks).
  ses_domain_identity = var.ses_sender_domain != null
  ses_identity        = local.ses_domain_identity ? var.ses_sender_domain : var.ses_sender_address

  mail_from = coalesce(var.mail_from, local.ses_domain_identity ? "Icy Morning <notifications@${coalesce(var.ses_sender_domain, "x.invalid")}>" : "Icy Morning <${coalesce(var.ses_sender_address, "x@x.invalid")}>")

  # Known at plan time (not read back from the resource), so the functions'
  # environment and the event rule's pattern are too.
  ses_configuration_set_name = local.prefix

  # The binary's SES transport (mail/ses.go): SES v2 SendEmail in this
  # Region, every message through our configuration set.
  mail_url = "ses://?region=${local.region}&configuration_set=${local.ses_configuration_set_name}"

  # SES publishes to the default bus only.
  default_event_bus_arn = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/default"

  # ses:SendEmail authorizes the sending identity and the configuration set
  # (both required when a set is used). In the sandbox SES also authorizes
  # each recipient's identity; outside it, only these two.
  ses_send_resources = concat(
    [aws_sesv2_email_identity.sender.arn, aws_sesv2_configuration_set.main.arn],
    [for a in var.ses_sandbox_recipients : aws_sesv2_email_identity.sandbox_recipient[a].arn],
  )
}

resource "aws_sesv2_configuration_set" "main" {
  configuration_set_name = local.ses_configuration_set_name

  # SES itself stops sending to an address that bounced or complained (the
  # worker also marks its subscriptions suppressed), which keeps the
  # account's bounce and complaint rates, and so its sending, safe.
  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  # The mails carry per-recipient signed links (unsubscribe, confirm): a
  # receiving server that cannot take them over TLS gets a bounce instead.
  delivery_options {
    tls_policy = "REQUIRE"
  }
}

resource "aws_sesv2_email_identity" "sender" {
  email_identity = local.ses_identity
  # Mail sent without naming a configuration set still goes through ours,
  # so its bounces and complaints are still seen.
  configuration_set_name = aws_sesv2_configuration_set.main.configuration_set_name

  dynamic "dkim_signing_attributes" {
    for_each = local.ses_domain_identity ? [1] : []
    content {
      # Easy DKIM: SES holds the key and gives three CNAME tokens.
      next_signing_key_length = "RSA_2048_BIT"
    }
  }
}

# Easy DKIM always gives three tokens, so the count is known at plan time
# although the tokens are not.
resource "aws_route53_record" "dkim" {
  count = local.ses_domain_identity && var.ses_route53_zone_id != null ? 3 : 0

  zone_id = var.ses_route53_zone_id
  name    = "${aws_sesv2_email_identity.sender.dkim_signing_attributes[0].tokens[count.index]}._domainkey.${var.ses_sender_domain}"
  type    = "CNAME"
  ttl     = 1800
  records = ["${aws_sesv2_email_identity.sender.dkim_signing_attributes[0].tokens[count.index]}.dkim.amazonses.com"]
}

# Sandbox only: recipients must be verified identities too.
resource "aws_sesv2_email_identity" "sandbox_recipient" {
  for_each = toset(var.ses_sandbox_recipients)

  email_identity = each.key
}

# Bounces and complaints go to EventBridge, where the worker's rule takes
# them; deliveries and the rest are not consumed, so they are not published.
resource "aws_sesv2_configuration_set_event_destination" "eventbridge" {
  configuration_set_name = aws_sesv2_configuration_set.main.configuration_set_name
  event_destination_name = "eventbridge"

  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT"]

    event_bridge_destination {
      event_bus_arn = local.default_event_bus_arn
    }
  }
}
