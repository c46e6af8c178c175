# The RDS Proxy: the function connects to the proxy, in exec mode; the
# database admits only the proxy; the proxy admits only the function.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
  enable_rds_proxy   = true
}

run "proxy_in_between" {
  command = plan

  assert {
    condition     = length(aws_db_proxy.main) == 1 && aws_db_proxy.main[0].require_tls && aws_db_proxy.main[0].engine_family == "POSTGRESQL"
    error_message = "Expected one PostgreSQL proxy that requires TLS."
  }
  assert {
    condition     = toset(aws_db_proxy.main[0].vpc_subnet_ids) == toset(aws_subnet.private[*].id)
    error_message = "The proxy must live in the private subnets."
  }
  assert {
    condition = {
      for a in aws_db_proxy.main[0].auth : a.secret_arn => a.iam_auth
      } == {
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf"                  = "DISABLED"
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:icy-morning-dev/database-app-MnOpQr" = "DISABLED"
    }
    error_message = "The proxy signs in with the master secret (the migrate function) and the app secret (icy_app); clients use passwords in password mode."
  }
  assert {
    condition     = aws_db_proxy_target.main[0].db_instance_identifier == aws_db_instance.main.identifier
    error_message = "The proxy must target the instance."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.DATABASE_URL == "postgres://icy_app@icy-morning-dev.proxy-mock.eu-west-1.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full" && aws_lambda_function.migrate.environment[0].variables.DATABASE_URL == "postgres://icy_admin@icy-morning-dev.proxy-mock.eu-west-1.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full"
    error_message = "DATABASE_URL must point at the proxy, as icy_app (API) and as the master user (migrate)."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.DB_QUERY_EXEC_MODE == "exec"
    error_message = "Through the proxy the binary must use the exec query mode."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.database_from_client.referenced_security_group_id == aws_security_group.proxy[0].id
    error_message = "With the proxy, the database admits only the proxy."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.proxy_from_function[0].referenced_security_group_id == aws_security_group.function.id && aws_vpc_security_group_ingress_rule.proxy_from_function[0].from_port == 5432
    error_message = "The proxy admits 5432 from the function only."
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.proxy_to_database[0].referenced_security_group_id == aws_security_group.database.id && aws_vpc_security_group_egress_rule.proxy_to_endpoints[0].referenced_security_group_id == aws_security_group.endpoints.id && aws_vpc_security_group_ingress_rule.endpoints_from_proxy[0].referenced_security_group_id == aws_security_group.proxy[0].id
    error_message = "The proxy reaches the database on 5432 and the Secrets Manager endpoint on 443."
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.function_to_database.referenced_security_group_id == aws_security_group.proxy[0].id
    error_message = "The function's database egress goes to the proxy."
  }
  assert {
    condition = toset(one([
      for s in jsondecode(aws_iam_role_policy.proxy[0].policy).Statement : s.Resource if s.Sid == "ReadDatabaseSecrets"
    ])) == toset(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf", aws_secretsmanager_secret.app_db[0].arn])
    error_message = "The proxy role may read the master and app secrets only."
  }
  assert {
    condition     = aws_cloudwatch_log_group.proxy[0].name == "/aws/rds/proxy/icy-morning-dev" && aws_cloudwatch_log_group.proxy[0].retention_in_days == 30 && aws_cloudwatch_log_group.proxy[0].kms_key_id == aws_kms_key.main.arn
    error_message = "The proxy's log group is Terraform's, with retention and the key (the proxy depends on it)."
  }
  assert {
    condition     = aws_lambda_function.api.reserved_concurrent_executions == -1
    error_message = "With the proxy (which pools connections) the API function's concurrency is unreserved by default."
  }
  assert {
    condition     = aws_lambda_function.migrate.environment[0].variables.DB_WAIT == "180s" && aws_lambda_function.migrate.environment[0].variables.DB_QUERY_EXEC_MODE == "exec"
    error_message = "The migrate function waits for the proxy's target to become available (DB_WAIT), in exec mode."
  }
  assert {
    condition     = output.database_endpoint == "icy-morning-dev.proxy-mock.eu-west-1.rds.amazonaws.com"
    error_message = "database_endpoint must be the proxy's."
  }
}

run "proxy_with_iam_auth" {
  command = plan

  variables {
    database_iam_auth = true
  }

  assert {
    condition = {
      for a in aws_db_proxy.main[0].auth : a.secret_arn => a.iam_auth
      } == {
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf"                  = "DISABLED"
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:icy-morning-dev/database-app-MnOpQr" = "REQUIRED"
    }
    error_message = "With IAM auth the proxy requires IAM tokens from icy_app's clients, and still admits the migrate function with the master password."
  }
  assert {
    condition     = aws_lambda_function.migrate.environment[0].variables.APP_DATABASE_SECRET_ARN == aws_secretsmanager_secret.app_db[0].arn && !contains(keys(aws_lambda_function.migrate.environment[0].variables), "APP_DATABASE_IAM_AUTH")
    error_message = "Through the proxy icy_app keeps a password (the proxy signs in with it): no rds_iam grant."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "ConnectWithIAMToken"
    ]) == ["arn:aws:rds-db:eu-west-1:123456789012:dbuser:prx-0123456789abcdef0/icy_app"]
    error_message = "rds-db:connect must name the proxy's resource id and the database user."
  }
}
