# The default deployment: private network, encrypted database, function with
# the binary's environment contract, HTTP API, observability and queues.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
}

run "network_is_private" {
  command = plan

  assert {
    condition     = length(aws_subnet.private) == 2 && length(distinct(aws_subnet.private[*].availability_zone)) == 2
    error_message = "Expected private subnets in two different availability zones."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.private : contains(["eu-west-1a", "eu-west-1b", "eu-west-1c"], s.availability_zone)])
    error_message = "Subnet zones must come from the aws_availability_zones data source."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.private : s.map_public_ip_on_launch == false])
    error_message = "Private subnets must not assign public IPs."
  }
  assert {
    condition     = length(aws_subnet.public) == 0 && length(aws_nat_gateway.main) == 0 && length(aws_internet_gateway.main) == 0 && length(aws_eip.nat) == 0
    error_message = "No public subnet, internet gateway or NAT gateway unless enable_nat_gateway."
  }
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["secretsmanager", "sqs", "email"])
    error_message = "Expected interface endpoints for Secrets Manager, SQS and the SES API."
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.vpc_endpoint_type == "Interface" && e.private_dns_enabled])
    error_message = "Endpoints must be interface endpoints with private DNS."
  }
  assert {
    condition     = aws_vpc_endpoint.interface["secretsmanager"].service_name == "com.amazonaws.eu-west-1.secretsmanager"
    error_message = "Endpoint service names must use the deployment's Region."
  }
  assert {
    condition     = aws_flow_log.main.traffic_type == "ALL" && aws_flow_log.main.log_destination_type == "cloud-watch-logs"
    error_message = "VPC flow logs must record all traffic to CloudWatch Logs."
  }
  assert {
    condition     = length(aws_vpc_security_group_egress_rule.function_to_internet) == 0
    error_message = "The function must have no internet egress by default."
  }
}

run "database_is_private_and_encrypted" {
  command = plan

  assert {
    condition     = aws_db_instance.main.publicly_accessible == false
    error_message = "The database must not be publicly accessible."
  }
  assert {
    condition     = aws_db_instance.main.storage_encrypted && aws_db_instance.main.kms_key_id == aws_kms_key.main.arn
    error_message = "Database storage must be encrypted with the deployment's KMS key."
  }
  assert {
    condition     = aws_db_instance.main.manage_master_user_password && aws_db_instance.main.master_user_secret_kms_key_id == aws_kms_key.main.key_id
    error_message = "RDS must manage the master password in Secrets Manager, encrypted with our key."
  }
  assert {
    condition     = aws_db_instance.main.password == null
    error_message = "Terraform must not set a database password."
  }
  assert {
    condition     = aws_db_instance.main.iam_database_authentication_enabled
    error_message = "IAM database authentication must be enabled."
  }
  assert {
    condition     = aws_db_instance.main.engine == "postgres" && startswith(aws_db_instance.main.engine_version, "16") && aws_db_parameter_group.main.family == "postgres16"
    error_message = "Expected PostgreSQL 16."
  }
  assert {
    condition     = aws_db_instance.main.deletion_protection && !aws_db_instance.main.skip_final_snapshot && aws_db_instance.main.backup_retention_period >= 1
    error_message = "Deletion protection, final snapshot and automated backups must be on by default."
  }
  assert {
    condition     = aws_db_instance.main.instance_class == "db.t4g.micro" && aws_db_instance.main.multi_az == false
    error_message = "The default database is a single-AZ db.t4g.micro."
  }
  assert {
    condition     = toset(aws_db_instance.main.enabled_cloudwatch_logs_exports) == toset(["postgresql", "upgrade"])
    error_message = "PostgreSQL logs must be exported to CloudWatch."
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.main.parameter : p.value if p.name == "log_min_duration_statement"]) == "500"
    error_message = "The parameter group must log statements slower than 500 ms."
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.main.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "The database must require TLS."
  }
  assert {
    condition     = toset(aws_db_subnet_group.main.subnet_ids) == toset(aws_subnet.private[*].id)
    error_message = "The database subnet group must hold exactly the private subnets."
  }
  assert {
    condition     = aws_db_instance.main.performance_insights_enabled && aws_db_instance.main.performance_insights_kms_key_id == aws_kms_key.main.arn
    error_message = "Performance Insights must be encrypted with our key."
  }
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.database_from_client.referenced_security_group_id == aws_security_group.function.id &&
      aws_vpc_security_group_ingress_rule.database_from_client.from_port == 5432 &&
      aws_vpc_security_group_ingress_rule.database_from_client.to_port == 5432 &&
      aws_vpc_security_group_ingress_rule.database_from_client.cidr_ipv4 == null
    )
    error_message = "The database must admit 5432 from the function's security group only."
  }
  assert {
    condition     = length(aws_db_proxy.main) == 0 && length(aws_security_group.proxy) == 0
    error_message = "No RDS Proxy by default."
  }
}

run "function_follows_the_binary_contract" {
  command = plan

  assert {
    condition     = aws_lambda_function.api.runtime == "provided.al2023" && aws_lambda_function.api.handler == "bootstrap" && aws_lambda_function.api.architectures == tolist(["arm64"])
    error_message = "The function must run bootstrap on provided.al2023, arm64."
  }
  assert {
    condition     = aws_lambda_function.api.timeout < 29
    error_message = "The function timeout must stay under API Gateway's 29 s."
  }
  assert {
    condition     = aws_lambda_function.api.tracing_config[0].mode == "Active"
    error_message = "X-Ray active tracing must be on."
  }
  assert {
    condition     = toset(aws_lambda_function.api.vpc_config[0].subnet_ids) == toset(aws_subnet.private[*].id) && toset(aws_lambda_function.api.vpc_config[0].security_group_ids) == toset([aws_security_group.function.id])
    error_message = "The function must run in the private subnets with its own security group."
  }
  assert {
    condition = alltrue([
      for k in keys(aws_lambda_function.api.environment[0].variables) :
      contains(["DATABASE_URL", "DATABASE_SECRET_ARN", "DATABASE_IAM_AUTH", "DB_MAX_CONNS", "DB_QUERY_EXEC_MODE", "BASIC_AUTH_SECRET_ARN", "LOG_LEVEL", "LOG_FORMAT",
      "MAIL_URL", "MAIL_FROM", "MAIL_MAX_PER_SECOND", "MAIL_CONNECTIONS", "PUBLIC_BASE_URL", "NOTIFY_SECRET_ARN", "NOTIFY_QUEUE_URL", "NOTIFY_CLAIM_TIMEOUT"], k)
    ])
    error_message = "The function environment may only hold variables the binary reads."
  }
  assert {
    condition = (
      aws_lambda_function.api.environment[0].variables.DATABASE_URL == "postgres://icy_app@icy-morning-dev.mock.eu-west-1.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full" &&
      aws_lambda_function.api.environment[0].variables.DATABASE_SECRET_ARN == aws_secretsmanager_secret.app_db[0].arn &&
      aws_lambda_function.api.environment[0].variables.BASIC_AUTH_SECRET_ARN == aws_secretsmanager_secret.basic_auth[0].arn &&
      aws_lambda_function.api.environment[0].variables.DB_MAX_CONNS == "2" &&
      aws_lambda_function.api.environment[0].variables.LOG_LEVEL == "info" &&
      aws_lambda_function.api.environment[0].variables.LOG_FORMAT == "json"
    )
    error_message = "Unexpected function environment values."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.api.environment[0].variables), "DATABASE_IAM_AUTH") && !contains(keys(aws_lambda_function.api.environment[0].variables), "DB_QUERY_EXEC_MODE")
    error_message = "Password mode without the proxy sets neither DATABASE_IAM_AUTH nor DB_QUERY_EXEC_MODE."
  }
  assert {
    condition = alltrue([
      for v in values(aws_lambda_function.api.environment[0].variables) :
      !strcontains(v, "MockGeneratedPasswordForPlansOnly") && !can(regex("://[^/@]*:[^/@]*@", v))
    ])
    error_message = "No password may appear in the function environment."
  }
  assert {
    condition     = aws_cloudwatch_log_group.function.name == "/aws/lambda/${aws_lambda_function.api.function_name}" && aws_cloudwatch_log_group.function.retention_in_days == 30 && aws_lambda_function.api.logging_config[0].log_group == aws_cloudwatch_log_group.function.name
    error_message = "The function's log group must be Terraform's, with a retention period."
  }
  assert {
    # db.t4g.micro: 3/4 of 1 GiB / 9531392 = 84 connections, less the
    # worker's (2 + 1) x 2 and the migrate function's 2, over db_max_conns 2.
    condition     = aws_lambda_function.api.reserved_concurrent_executions == 38
    error_message = "Without the proxy, the API function's concurrency is reserved so that its connections fit the instance class."
  }
  assert {
    condition     = aws_lambda_function.api.publish && aws_lambda_function.worker.publish && aws_lambda_function.migrate.publish
    error_message = "Every function publishes a version per change."
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.api.destination_config[0].on_failure[0].destination == aws_sqs_queue.function_dlq.arn
    error_message = "Failed asynchronous invocations must go to the function's dead-letter queue."
  }
  assert {
    condition     = jsondecode(aws_lambda_invocation.migrate.input) == { icy_morning = "migrate" } && aws_lambda_invocation.migrate.triggers.code == filebase64sha256("tests/fixtures/lambda.zip")
    error_message = "Migrations must run through the migrate entry point on every new code hash."
  }
  assert {
    condition     = aws_lambda_invocation.migrate.function_name == aws_lambda_function.migrate.function_name && aws_lambda_invocation.migrate.qualifier == "7"
    error_message = "The migration must run on the migrate function's newly published version."
  }
  assert {
    condition     = aws_lambda_alias.api.function_version == "7" && aws_lambda_alias.worker.function_version == "7" && aws_lambda_alias.api.name == "live"
    error_message = "The live aliases must point at the newly published versions (they move after the migration)."
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.api.qualifier == "live" && aws_lambda_function_event_invoke_config.worker.qualifier == "live"
    error_message = "Asynchronous invocation settings apply to the aliases that are invoked."
  }
}

run "migrate_function_holds_the_master_secret" {
  command = plan

  assert {
    condition = (
      aws_lambda_function.migrate.environment[0].variables.ICY_MORNING_FUNCTION == "migrate" &&
      aws_lambda_function.migrate.environment[0].variables.DATABASE_SECRET_ARN == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf" &&
      aws_lambda_function.migrate.environment[0].variables.APP_DATABASE_SECRET_ARN == aws_secretsmanager_secret.app_db[0].arn &&
      aws_lambda_function.migrate.environment[0].variables.DATABASE_URL == "postgres://icy_admin@icy-morning-dev.mock.eu-west-1.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full"
    )
    error_message = "The migrate function signs in as the master user with the master secret and sets icy_app's password from the app secret."
  }
  assert {
    condition = alltrue([
      for k in keys(aws_lambda_function.migrate.environment[0].variables) :
      contains(["ICY_MORNING_FUNCTION", "DATABASE_URL", "DATABASE_SECRET_ARN", "APP_DATABASE_SECRET_ARN", "APP_DATABASE_IAM_AUTH", "DB_WAIT", "DB_MAX_CONNS", "DB_QUERY_EXEC_MODE", "LOG_LEVEL", "LOG_FORMAT"], k)
    ])
    error_message = "The migrate function gets only what migrating needs (no Basic auth or link-signing secret)."
  }
  assert {
    condition     = endswith(aws_lambda_function.migrate.environment[0].variables.DB_WAIT, "s") && tonumber(trimsuffix(aws_lambda_function.migrate.environment[0].variables.DB_WAIT, "s")) < aws_lambda_function.migrate.timeout
    error_message = "DB_WAIT must be set, in seconds, and shorter than the migrate function's timeout."
  }
  assert {
    condition     = aws_lambda_function.migrate.vpc_config[0].security_group_ids == toset(["sg-function"]) && length(aws_lambda_function.migrate.vpc_config[0].subnet_ids) == 2
    error_message = "The migrate function reaches the database from the functions' subnets and security group."
  }
  assert {
    condition = toset(one([
      for s in jsondecode(aws_iam_role_policy.migrate.policy).Statement : s.Resource if s.Sid == "ReadDatabaseSecrets"
    ])) == toset(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf", aws_secretsmanager_secret.app_db[0].arn])
    error_message = "The migrate role reads the master and app secrets, and nothing else."
  }
  assert {
    condition     = aws_cloudwatch_log_group.migrate.name == "/aws/lambda/icy-morning-dev-migrate" && aws_cloudwatch_log_group.migrate.kms_key_id == aws_kms_key.main.arn && aws_lambda_function.migrate.logging_config[0].log_group == aws_cloudwatch_log_group.migrate.name
    error_message = "The migrate function logs to its own encrypted log group."
  }
}

run "secrets_stay_out_of_state" {
  command = plan

  assert {
    condition     = aws_secretsmanager_secret_version.basic_auth[0].secret_string == null && aws_secretsmanager_secret_version.basic_auth[0].secret_string_wo_version == 1
    error_message = "The Basic auth password must be written write-only (secret_string_wo), never as secret_string."
  }
  assert {
    condition     = aws_secretsmanager_secret_version.app_db[0].secret_string == null && aws_secretsmanager_secret_version.app_db[0].secret_string_wo_version == 1 && aws_secretsmanager_secret_version.app_db[0].secret_id == aws_secretsmanager_secret.app_db[0].id
    error_message = "The app database password must be written write-only (secret_string_wo), never as secret_string."
  }
  assert {
    condition     = aws_secretsmanager_secret.app_db[0].kms_key_id == aws_kms_key.main.arn
    error_message = "The app secret is encrypted with the deployment's key."
  }
}

run "guards_for_teardown_and_urls" {
  command = plan

  assert {
    condition     = output.deletion_protected == true
    error_message = "The deletion_protected output (which make destroy-deployment reads) must be true by default."
  }
  assert {
    condition     = output.api_url == "https://mockapi.execute-api.eu-west-1.amazonaws.com" && !endswith(output.api_url, "/")
    error_message = "api_url has no trailing slash, so \"$URL/healthz\" is one path."
  }
  assert {
    condition     = startswith(aws_db_instance.main.final_snapshot_identifier, "icy-morning-dev-final-")
    error_message = "The final snapshot always has a name."
  }
}

run "function_role_is_least_privilege" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : [
        for r in flatten([s.Resource]) : r != "*"
      ]
    ]))
    error_message = "No statement of the function's policy may grant on every resource."
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : [
        for a in flatten([s.Action]) : !endswith(a, "*")
      ]
    ]))
    error_message = "No statement of the function's policy may use a wildcard action."
  }
  assert {
    condition = toset(one([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "ReadOwnSecrets"
    ])) == toset([aws_secretsmanager_secret.basic_auth[0].arn, aws_secretsmanager_secret.notify.arn, aws_secretsmanager_secret.app_db[0].arn])
    error_message = "The function may read exactly its three secrets: never the master secret."
  }
  assert {
    condition = toset(one([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "SendToOwnQueues"
    ])) == toset([aws_sqs_queue.asset_events.arn, aws_sqs_queue.function_dlq.arn])
    error_message = "The function may send only to its own queues."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "ConnectWithIAMToken"]) == 0
    error_message = "No rds-db:connect in password mode."
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy_attachment.lambda_describe_subnets)) == toset(["function", "worker", "migrate"]) && jsondecode(aws_iam_policy.lambda_describe_subnets.policy).Statement[0].Action == ["ec2:DescribeSubnets"]
    error_message = "Each function role gets ec2:DescribeSubnets (AWSLambdaVPCAccessExecutionRole v3 added it), and only that."
  }
}

run "api_proxies_everything_to_the_function" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_api.main.protocol_type == "HTTP" && aws_apigatewayv2_route.default.route_key == "$default" && aws_apigatewayv2_stage.default.name == "$default"
    error_message = "Expected an HTTP API with a $default route and stage."
  }
  assert {
    condition     = aws_apigatewayv2_integration.function.payload_format_version == "2.0" && aws_apigatewayv2_integration.function.integration_type == "AWS_PROXY" && aws_apigatewayv2_integration.function.integration_uri == aws_lambda_alias.api.invoke_arn
    error_message = "The integration must be a Lambda proxy with payload format 2.0, to the live alias."
  }
  assert {
    condition     = endswith(aws_apigatewayv2_integration.function.integration_uri, ":live/invocations") && aws_lambda_permission.api.qualifier == aws_lambda_alias.api.name
    error_message = "API Gateway invokes the live alias (which moves only after the migration), and its permission names the alias."
  }
  assert {
    condition     = aws_apigatewayv2_stage.default.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.api_access.arn && can(jsondecode(aws_apigatewayv2_stage.default.access_log_settings[0].format).requestId)
    error_message = "Access logs must be JSON in the API's log group."
  }
  assert {
    condition     = aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 50 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 100
    error_message = "Stage throttling must follow the variables."
  }
  assert {
    condition     = length(aws_apigatewayv2_api.main.cors_configuration) == 0
    error_message = "CORS is off unless origins are given."
  }
  assert {
    condition     = length(aws_acm_certificate.api) == 0 && length(aws_apigatewayv2_domain_name.api) == 0 && output.custom_domain_url == null
    error_message = "No custom domain by default."
  }
}

run "observability_and_events" {
  command = plan

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.main)) == toset([
      "api-5xx", "api-4xx", "api-latency-p99", "lambda-errors", "lambda-throttles", "lambda-duration-p99",
      "lambda-concurrency", "db-cpu", "db-connections", "db-free-storage", "asset-events-dlq-depth", "function-dlq-depth",
      "worker-errors", "ses-bounce-rate", "ses-complaint-rate",
    ])
    error_message = "Expected an alarm for each watched metric."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.main : a.alarm_actions == toset([aws_sns_topic.alarms.arn])])
    error_message = "Every alarm must notify the alarm topic."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.main["lambda-duration-p99"].threshold == 20000 && aws_cloudwatch_metric_alarm.main["lambda-duration-p99"].extended_statistic == "p99"
    error_message = "The duration alarm defaults to 80% of the timeout, at p99."
  }
  assert {
    condition     = length(aws_sns_topic_subscription.alarm_email) == 0 && aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.main.arn
    error_message = "The alarm topic is encrypted and has no subscription without alarm_email."
  }
  assert {
    condition = alltrue([
      for m in ["\"5xx\"", "\"Latency\"", "\"Errors\"", "\"Throttles\"", "\"Duration\"", "\"ConcurrentExecutions\"", "\"CPUUtilization\"", "\"DatabaseConnections\"", "\"FreeStorageSpace\""] :
      strcontains(aws_cloudwatch_dashboard.main.dashboard_body, m)
    ])
    error_message = "The dashboard must chart API, function and database metrics."
  }
  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.main.dashboard_body).widgets) == 12
    error_message = "Expected an alarm widget and eleven metric widgets."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.asset_events.redrive_policy).deadLetterTargetArn == aws_sqs_queue.asset_events_dlq.arn && jsondecode(aws_sqs_queue.asset_events.redrive_policy).maxReceiveCount == 5
    error_message = "Asset events must redrive to their dead-letter queue."
  }
  assert {
    condition     = alltrue([for q in [aws_sqs_queue.asset_events, aws_sqs_queue.asset_events_dlq, aws_sqs_queue.function_dlq] : q.kms_master_key_id == aws_kms_key.main.arn])
    error_message = "Every queue must be encrypted with the deployment's key."
  }
  assert {
    condition = alltrue([
      for g in [aws_cloudwatch_log_group.function, aws_cloudwatch_log_group.worker, aws_cloudwatch_log_group.migrate, aws_cloudwatch_log_group.api_access, aws_cloudwatch_log_group.flow_logs, aws_cloudwatch_log_group.database["postgresql"]] :
      g.retention_in_days == 30 && g.kms_key_id == aws_kms_key.main.arn
    ])
    error_message = "Every log group needs a retention period and the KMS key."
  }
  assert {
    condition     = aws_kms_key.main.enable_key_rotation
    error_message = "The KMS key must rotate."
  }
}

run "nat_gateway_on_request" {
  command = plan

  variables {
    enable_nat_gateway  = true
    lambda_architecture = "x86_64"
    az_count            = 3
  }

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_nat_gateway.main) == 1 && length(aws_route.private_nat) == 1
    error_message = "enable_nat_gateway adds public subnets and one NAT gateway."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Even public subnets assign no public IPs."
  }
  assert {
    condition     = length(aws_vpc_security_group_egress_rule.function_to_internet) == 1 && aws_vpc_security_group_egress_rule.function_to_internet[0].from_port == 443
    error_message = "With NAT, the function may reach the internet on 443 only."
  }
  assert {
    condition     = aws_lambda_function.api.architectures == tolist(["x86_64"])
    error_message = "lambda_architecture must reach the function."
  }
}
