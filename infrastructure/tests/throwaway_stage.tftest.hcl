# A throwaway stage relaxes what protects data, and nothing else.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path             = "tests/fixtures/lambda.zip"
  ses_sender_address          = "notifications@example.com"
  stage                       = "pr123"
  db_deletion_protection      = false
  db_skip_final_snapshot      = true
  db_backup_retention_days    = 1
  secret_recovery_window_days = 0
  kms_deletion_window_days    = 7
  log_retention_days          = 3
}

run "throwaway_stage" {
  command = plan

  assert {
    condition     = aws_db_instance.main.deletion_protection == false && aws_db_instance.main.skip_final_snapshot
    error_message = "A throwaway stage deletes its database without protection or final snapshot."
  }
  assert {
    condition     = startswith(aws_db_instance.main.final_snapshot_identifier, "icy-morning-pr123-final-")
    error_message = "The final snapshot is named even when skipped, so switching to keeping snapshots later still destroys cleanly."
  }
  assert {
    condition     = output.deletion_protected == false
    error_message = "A throwaway stage reports no deletion protection, so a plain make destroy-deployment proceeds."
  }
  assert {
    condition     = aws_db_instance.main.identifier == "icy-morning-pr123" && aws_lambda_function.api.function_name == "icy-morning-pr123-api"
    error_message = "Names must carry the stage."
  }
  assert {
    condition     = aws_secretsmanager_secret.basic_auth[0].recovery_window_in_days == 0 && aws_kms_key.main.deletion_window_in_days == 7
    error_message = "Secrets and the key go quickly in a throwaway stage."
  }
  assert {
    condition     = aws_cloudwatch_log_group.function.retention_in_days == 3
    error_message = "log_retention_days must reach the log groups."
  }
  assert {
    condition     = aws_db_instance.main.publicly_accessible == false && aws_db_instance.main.storage_encrypted && aws_db_instance.main.backup_retention_period == 1
    error_message = "A throwaway stage is still private, encrypted and backed up."
  }
}

run "kept_stage_takes_a_final_snapshot" {
  command = plan

  variables {
    db_deletion_protection = true
    db_skip_final_snapshot = false
  }

  assert {
    condition     = startswith(aws_db_instance.main.final_snapshot_identifier, "icy-morning-pr123-final-")
    error_message = "A kept stage names its final snapshot."
  }
}
