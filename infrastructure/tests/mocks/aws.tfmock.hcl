# Values the mocked aws provider returns, where random strings would not do:
# zone names the subnets use, account facts that go into ARNs, and the
# computed attributes the deployment reads back (database secret and
# endpoints, proxy ARN). All of them are made up.

mock_data "aws_availability_zones" {
  defaults = {
    names    = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    zone_ids = ["euw1-az1", "euw1-az2", "euw1-az3"]
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/mock"
    user_id    = "AIDAMOCKMOCKMOCKMOCK"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition          = "aws"
    dns_suffix         = "amazonaws.com"
    reverse_dns_prefix = "com.amazonaws"
  }
}

mock_data "aws_secretsmanager_random_password" {
  defaults = {
    random_password = "MockGeneratedPasswordForPlansOnly"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    key_id = "00000000-0000-0000-0000-000000000000"
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    address     = "icy-morning-dev.mock.eu-west-1.rds.amazonaws.com"
    resource_id = "db-MOCKRESOURCEID"
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf"
      kms_key_id    = "00000000-0000-0000-0000-000000000000"
      secret_status = "active"
    }]
  }
}

mock_resource "aws_db_proxy" {
  defaults = {
    arn      = "arn:aws:rds:eu-west-1:123456789012:db-proxy:prx-0123456789abcdef0"
    endpoint = "icy-morning-dev.proxy-mock.eu-west-1.rds.amazonaws.com"
  }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:icy-morning-dev/basic-auth-AbCdEf"
  }
}

# Distinct identifiers for the resources the tests compare, so a security
# group rule that pointed at the wrong group would fail. (Mocked values of
# other computed attributes stay unknown in a plan.)

override_resource {
  target = aws_subnet.private[0]
  values = { id = "subnet-private0" }
}

override_resource {
  target = aws_subnet.private[1]
  values = { id = "subnet-private1" }
}

override_resource {
  target = aws_subnet.private[2]
  values = { id = "subnet-private2" }
}

override_resource {
  target = aws_security_group.function
  values = { id = "sg-function" }
}

override_resource {
  target = aws_security_group.database
  values = { id = "sg-database" }
}

override_resource {
  target = aws_security_group.endpoints
  values = { id = "sg-endpoints" }
}

override_resource {
  target = aws_security_group.proxy[0]
  values = { id = "sg-proxy" }
}

override_resource {
  target = aws_cloudwatch_log_group.function
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mock-function" }
}

override_resource {
  target = aws_cloudwatch_log_group.api_access
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/mock/access" }
}

override_resource {
  target = aws_cloudwatch_log_group.flow_logs
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc/mock/flow-logs" }
}

override_resource {
  target = aws_sqs_queue.asset_events
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:mock-asset-events"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock-asset-events"
  }
}

override_resource {
  target = aws_sqs_queue.asset_events_dlq
  values = { arn = "arn:aws:sqs:eu-west-1:123456789012:mock-asset-events-dlq" }
}

override_resource {
  target = aws_sqs_queue.function_dlq
  values = { arn = "arn:aws:sqs:eu-west-1:123456789012:mock-function-dlq" }
}

override_resource {
  target = aws_sns_topic.alarms
  values = { arn = "arn:aws:sns:eu-west-1:123456789012:mock-alarms" }
}

override_resource {
  target = aws_apigatewayv2_api.main
  values = {
    id            = "mockapi"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:mockapi"
    api_endpoint  = "https://mockapi.execute-api.eu-west-1.amazonaws.com"
  }
}

override_resource {
  target = aws_apigatewayv2_stage.default
  values = { id = "$default", invoke_url = "https://mockapi.execute-api.eu-west-1.amazonaws.com/" }
}

override_resource {
  target = aws_acm_certificate.api[0]
  values = { arn = "arn:aws:acm:eu-west-1:123456789012:certificate/mock" }
}

# --- notifications -------------------------------------------------------------

override_resource {
  target = aws_secretsmanager_secret.notify
  values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:icy-morning-dev/notify-secret-GhIjKl" }
}

override_resource {
  target = aws_cloudwatch_log_group.worker
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mock-worker" }
}

override_resource {
  target = aws_lambda_function.worker
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mock-worker", version = "7" }
}

override_resource {
  target = aws_sesv2_email_identity.sender
  values = { arn = "arn:aws:ses:eu-west-1:123456789012:identity/mock-sender" }
}

override_resource {
  target = aws_sesv2_configuration_set.main
  values = { arn = "arn:aws:ses:eu-west-1:123456789012:configuration-set/mock" }
}

override_resource {
  target = aws_cloudwatch_event_rule.sweep
  values = { arn = "arn:aws:events:eu-west-1:123456789012:rule/mock-sweep" }
}

override_resource {
  target = aws_cloudwatch_event_rule.ses_feedback
  values = { arn = "arn:aws:events:eu-west-1:123456789012:rule/mock-ses-feedback" }
}

# --- least-privilege database role and migrations ------------------------------------

override_resource {
  target = aws_secretsmanager_secret.app_db[0]
  values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:icy-morning-dev/database-app-MnOpQr" }
}

override_resource {
  target = aws_cloudwatch_log_group.migrate
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mock-migrate" }
}

override_resource {
  target = aws_lambda_function.api
  values = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mock-api"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mock-api/invocations"
    version    = "7"
  }
}

override_resource {
  target = aws_lambda_function.migrate
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mock-migrate", version = "7" }
}

override_resource {
  target = aws_lambda_alias.api
  values = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mock-api:live"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mock-api:live/invocations"
  }
}

override_resource {
  target = aws_lambda_alias.worker
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mock-worker:live" }
}

# --- single sign-on (auth.tf) ---------------------------------------------------------

override_resource {
  target = aws_cognito_user_pool.main[0]
  values = {
    id       = "eu-west-1_MockPool1"
    arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_MockPool1"
    endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_MockPool1"
  }
}

override_resource {
  target = aws_cognito_user_pool_client.docs[0]
  values = { id = "mockdocsclientid0123456789" }
}

override_resource {
  target = aws_apigatewayv2_integration.function
  values = { id = "mockinteg" }
}

override_resource {
  target = aws_apigatewayv2_authorizer.jwt[0]
  values = { id = "mockauthz" }
}

# package_type = "Image": the functions' image_uri is built from this.
mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/icy-morning-dev"
    repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/icy-morning-dev"
    registry_id    = "123456789012"
  }
}
