output "api_url" {
  description = "Base URL of the API ($default stage), without a trailing slash: the docs are at <api_url>/docs."
  value       = trimsuffix(aws_apigatewayv2_stage.default.invoke_url, "/")
}

output "custom_domain_url" {
  description = "The API on its custom domain, when enabled."
  value       = var.enable_custom_domain && var.api_gateway_domain != null ? "https://${var.api_gateway_domain}/" : null
}

output "custom_domain_dns_target" {
  description = "Point a CNAME (or an alias A/AAAA record) for api_gateway_domain at this name."
  value       = var.enable_custom_domain ? aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].target_domain_name : null
}

output "cdn_url" {
  description = "The API through CloudFront (https://<id>.cloudfront.net, no trailing slash), when enable_cdn: use this one, api_url then refuses every request (403)."
  value       = local.cdn_url
}

output "cdn_distribution_id" {
  description = "The CloudFront distribution (CDN_DISTRIBUTION_ID of the worker), when enable_cdn."
  value       = local.cdn ? aws_cloudfront_distribution.main[0].id : null
}

output "function_name" {
  description = "Name of the API function."
  value       = aws_lambda_function.api.function_name
}

output "function_arn" {
  description = "ARN of the API function."
  value       = aws_lambda_function.api.arn
}

output "log_groups" {
  description = "CloudWatch log groups of the deployment."
  value = merge(
    {
      function   = aws_cloudwatch_log_group.function.name
      worker     = aws_cloudwatch_log_group.worker.name
      migrate    = aws_cloudwatch_log_group.migrate.name
      api_access = aws_cloudwatch_log_group.api_access.name
      flow_logs  = aws_cloudwatch_log_group.flow_logs.name
    },
    { for k, g in aws_cloudwatch_log_group.database : "database_${k}" => g.name },
    { for g in aws_cloudwatch_log_group.proxy : "proxy" => g.name },
  )
}

output "database_endpoint" {
  description = "Host name the function connects to: the RDS Proxy when enabled, else the instance."
  value       = local.db_endpoint_host
}

output "database_instance_endpoint" {
  description = "Host name of the RDS instance itself."
  value       = aws_db_instance.main.address
}

output "database_url" {
  description = "DATABASE_URL given to the API and worker functions (user icy_app, no password in it)."
  value       = local.app_database_url
}

output "migrate_function_name" {
  description = "Name of the migrate function (make migrate invokes it)."
  value       = aws_lambda_function.migrate.function_name
}

output "app_database_secret_arn" {
  description = "Secrets Manager secret of the icy_app database role (null in IAM mode at the database)."
  value       = local.app_db_secret_arn
}

output "final_snapshot_identifier" {
  description = "Name of the snapshot RDS takes when the database is destroyed, or null when db_skip_final_snapshot (make destroy-deployment then keeps the KMS key that encrypts it)."
  value       = aws_db_instance.main.skip_final_snapshot ? null : aws_db_instance.main.final_snapshot_identifier
}

output "deletion_protected" {
  description = "Whether the database has deletion protection: make destroy-deployment refuses to start while it is true, unless DELETE_DATABASE=yes."
  value       = aws_db_instance.main.deletion_protection
}

output "database_master_secret_arn" {
  description = "Secrets Manager secret that RDS keeps the master password in."
  value       = local.db_master_secret_arn
}

output "basic_auth_secret_arn" {
  description = "Secrets Manager secret holding the API's Basic auth account (null when auth_type is jwt)."
  value       = local.basic_auth_secret_arn
}

output "basic_auth_username" {
  description = "User name for API writes with Basic auth (null when auth_type is jwt)."
  value       = local.basic_enabled ? var.basic_auth_username : null
}

output "auth_type" {
  description = "AUTH_TYPE of the API: basic, jwt or basic,jwt."
  value       = var.auth_type
}

output "oidc_issuer_url" {
  description = "The token issuer (OIDC_ISSUER_URL): the Cognito user pool's (https://cognito-idp.<region>.amazonaws.com/<pool id>) or oidc_issuer_url; null with basic."
  value       = local.jwt_enabled ? local.oidc_issuer_url : null
}

output "cognito_user_pool_id" {
  description = "The Cognito user pool (null without enable_cognito)."
  value       = local.cognito ? aws_cognito_user_pool.main[0].id : null
}

output "cognito_docs_client_id" {
  description = "The public app client Swagger UI logs in with (OIDC_DOCS_CLIENT_ID, OIDC_CLIENT_IDS); null without enable_cognito."
  value       = local.cognito ? aws_cognito_user_pool_client.docs[0].id : null
}

output "cognito_hosted_ui_url" {
  description = "The Cognito hosted UI domain's base URL (https://<prefix>.auth.<region>.amazoncognito.com); null without enable_cognito."
  value       = local.cognito ? "https://${aws_cognito_user_pool_domain.main[0].domain}.auth.${local.region}.amazoncognito.com" : null
}

output "cognito_write_group" {
  description = "The Cognito group whose members may write (null without enable_cognito)."
  value       = local.cognito ? aws_cognito_user_group.writers[0].name : null
}

# No basic_auth_password output: the password is write-only and in no state.
# Read it from Secrets Manager (the README's Deploy section shows how).

output "migration_result" {
  description = "What the migrate function answered to the last migrate invocation."
  value       = aws_lambda_invocation.migrate.result
}

output "asset_events_queue_url" {
  description = "The nudge queue: the API function sends to it (NOTIFY_QUEUE_URL), the worker consumes it."
  value       = aws_sqs_queue.asset_events.url
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the deployment."
  value       = aws_cloudwatch_dashboard.main.dashboard_name
}

output "kms_key_arn" {
  description = "KMS key that encrypts the database, secrets, queues, topic and logs."
  value       = aws_kms_key.main.arn
}

output "worker_function_name" {
  description = "Name of the notifications worker function."
  value       = aws_lambda_function.worker.function_name
}

output "notify_secret_arn" {
  description = "Secrets Manager secret holding the key that signs the links in mails (NOTIFY_SECRET)."
  value       = aws_secretsmanager_secret.notify.arn
}

output "ses_identity" {
  description = "The SES identity mail is sent from (a domain or an address), and its ARN."
  value       = { name = aws_sesv2_email_identity.sender.email_identity, arn = aws_sesv2_email_identity.sender.arn }
}

output "ses_configuration_set" {
  description = "SES configuration set every mail goes through (suppression, events to EventBridge)."
  value       = aws_sesv2_configuration_set.main.configuration_set_name
}

output "ses_dkim_records" {
  description = "The three DKIM CNAME records a domain identity needs; Terraform writes them when ses_route53_zone_id is set, otherwise create them at your DNS host."
  value = local.ses_domain_identity ? [
    for t in aws_sesv2_email_identity.sender.dkim_signing_attributes[0].tokens : {
      name  = "${t}._domainkey.${var.ses_sender_domain}"
      type  = "CNAME"
      value = "${t}.dkim.amazonses.com"
    }
  ] : []
}
