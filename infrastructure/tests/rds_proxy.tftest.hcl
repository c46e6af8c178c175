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
    condition     = one(aws_db_proxy.main[0].auth).secret_arn == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf" && one(aws_db_proxy.main[0].auth).iam_auth == "DISABLED"
    error_message = "The proxy signs in with the RDS-managed master secret; clients use the password in password mode."
  }
  assert {
    condition     = aws_db_proxy_target.main[0].db_instance_identifier == aws_db_instance.main.identifier
    error_message = "The proxy must target the instance."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.DATABASE_URL == "postgres://icy_admin@icy-morning-dev.proxy-mock.eu-west-1.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full"
    error_message = "DATABASE_URL must point at the proxy."
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
      for s in jsondecode(aws_iam_role_policy.proxy[0].policy).Statement : s.Resource if s.Sid == "ReadMasterSecret"
    ])) == toset(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf"])
    error_message = "The proxy role may read the master secret only."
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
    condition     = one(aws_db_proxy.main[0].auth).iam_auth == "REQUIRED"
    error_message = "With IAM auth the proxy requires IAM tokens from clients."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "ConnectWithIAMToken"
    ]) == ["arn:aws:rds-db:eu-west-1:123456789012:dbuser:prx-0123456789abcdef0/icy_admin"]
    error_message = "rds-db:connect must name the proxy's resource id and the database user."
  }
}
