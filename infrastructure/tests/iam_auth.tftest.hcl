# IAM database authentication: no database secret for the function, an
# rds-db:connect grant on the instance's database user instead.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
  database_iam_auth  = true
}

run "iam_auth_on" {
  command = plan

  assert {
    condition     = aws_lambda_function.api.environment[0].variables.DATABASE_IAM_AUTH == "true"
    error_message = "DATABASE_IAM_AUTH must be true."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.api.environment[0].variables), "DATABASE_SECRET_ARN")
    error_message = "With IAM auth the function gets no database secret."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "ConnectWithIAMToken"
    ]) == ["arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-MOCKRESOURCEID/icy_app"]
    error_message = "rds-db:connect must name the instance's resource id and the application user icy_app only."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "ReadOwnSecrets"
    ]) == [aws_secretsmanager_secret.basic_auth[0].arn, aws_secretsmanager_secret.notify.arn]
    error_message = "With IAM auth the function reads only the Basic auth and link-signing secrets."
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables.DATABASE_URL == "postgres://icy_app@icy-morning-dev.mock.eu-west-1.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full"
    error_message = "DATABASE_URL names icy_app and the instance, without a password, in IAM mode too."
  }
  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.DATABASE_IAM_AUTH == "true" && startswith(aws_lambda_function.worker.environment[0].variables.DATABASE_URL, "postgres://icy_app@")
    error_message = "The worker signs in as icy_app with IAM tokens too."
  }
  assert {
    condition = (
      aws_lambda_function.migrate.environment[0].variables.APP_DATABASE_IAM_AUTH == "true" &&
      aws_lambda_function.migrate.environment[0].variables.DATABASE_SECRET_ARN == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-AbCdEf" &&
      !contains(keys(aws_lambda_function.migrate.environment[0].variables), "APP_DATABASE_SECRET_ARN")
    )
    error_message = "The migrate function still signs in with the master password (IAM is never the only way in) and grants rds_iam to icy_app."
  }
  assert {
    condition     = length(aws_secretsmanager_secret.app_db) == 0
    error_message = "IAM mode at the database needs no app secret."
  }
}
