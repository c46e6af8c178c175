# Values that would fail late (half-way through an apply, or at the first
# request) fail at plan instead.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
}

run "names_too_long_for_iam_prefixes" {
  command = plan
  variables {
    name  = "icy-morning-service"
    stage = "production1"
  }
  expect_failures = [var.name, var.stage]
}

run "timeout_at_api_gateway_limit" {
  command = plan
  variables {
    lambda_timeout_seconds = 29
  }
  expect_failures = [var.lambda_timeout_seconds]
}

run "unknown_architecture" {
  command = plan
  variables {
    lambda_architecture = "amd64"
  }
  expect_failures = [var.lambda_architecture]
}

run "missing_zip" {
  command = plan
  variables {
    lambda_zip_path = "tests/fixtures/no-such-package.zip"
  }
  expect_failures = [var.lambda_zip_path]
}

run "one_availability_zone" {
  command = plan
  variables {
    az_count = 1
  }
  expect_failures = [var.az_count]
}

run "vpc_too_large" {
  command = plan
  variables {
    vpc_cidr = "10.0.0.0/8"
  }
  expect_failures = [var.vpc_cidr]
}

run "postgres_15" {
  command = plan
  variables {
    db_engine_version = "15.7"
  }
  expect_failures = [var.db_engine_version]
}

run "reserved_master_username" {
  command = plan
  variables {
    db_master_username = "rdsadmin"
  }
  expect_failures = [var.db_master_username]
}

run "backups_off" {
  command = plan
  variables {
    db_backup_retention_days = 0
  }
  expect_failures = [var.db_backup_retention_days]
}

run "retention_cloudwatch_rejects" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "zero_reserved_concurrency" {
  command = plan
  variables {
    lambda_reserved_concurrency = 0
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "short_secret_recovery_window" {
  command = plan
  variables {
    secret_recovery_window_days = 3
  }
  expect_failures = [var.secret_recovery_window_days]
}

run "bad_alarm_email" {
  command = plan
  variables {
    alarm_email = "ops-at-example"
  }
  expect_failures = [var.alarm_email]
}

run "bad_domain" {
  command = plan
  variables {
    api_gateway_domain = "https://api.example.com/"
  }
  expect_failures = [var.api_gateway_domain]
}

run "storage_ceiling_below_allocation" {
  command = plan
  variables {
    db_allocated_storage_gb     = 50
    db_max_allocated_storage_gb = 40
  }
  expect_failures = [aws_db_instance.main]
}

run "credentials_with_any_origin" {
  command = plan
  variables {
    cors_allow_origins     = ["*"]
    cors_allow_credentials = true
  }
  expect_failures = [aws_apigatewayv2_api.main]
}

run "alarm_email_subscribes" {
  command = plan
  variables {
    alarm_email = "ops@example.com"
  }
  assert {
    condition     = aws_sns_topic_subscription.alarm_email[0].protocol == "email" && aws_sns_topic_subscription.alarm_email[0].endpoint == "ops@example.com"
    error_message = "alarm_email must subscribe to the alarm topic."
  }
}
