# package_type: the three functions run the zip (the default) or the
# container image from the ECR repository this creates (ecr.tf).

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  lambda_zip_path    = "tests/fixtures/lambda.zip"
  ses_sender_address = "notifications@example.com"
}

run "zip_by_default" {
  command = plan

  assert {
    condition = alltrue([for f in [aws_lambda_function.api, aws_lambda_function.worker, aws_lambda_function.migrate] :
      f.package_type == "Zip" && f.filename == "tests/fixtures/lambda.zip" && f.image_uri == null &&
    f.runtime == "provided.al2023" && f.handler == "bootstrap" && f.source_code_hash == filebase64sha256("tests/fixtures/lambda.zip")])
    error_message = "By default every function runs the zip: bootstrap on provided.al2023, no image."
  }
  assert {
    condition     = length(aws_ecr_repository.main) == 0 && length(aws_ecr_lifecycle_policy.main) == 0 && length(aws_ecr_repository_policy.lambda_pull) == 0
    error_message = "No ECR repository unless package_type is Image."
  }
  assert {
    condition     = aws_lambda_invocation.migrate.triggers.code == filebase64sha256("tests/fixtures/lambda.zip")
    error_message = "A new zip must run the migration again."
  }
}

run "image" {
  command = plan
  variables {
    package_type    = "Image"
    image_tag       = "v1.4.0"
    lambda_zip_path = "tests/fixtures/no-such-package.zip" # not read for an image
  }

  assert {
    condition = alltrue([for f in [aws_lambda_function.api, aws_lambda_function.worker, aws_lambda_function.migrate] :
      f.package_type == "Image" && f.image_uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/icy-morning-dev:v1.4.0" &&
    f.filename == null && f.runtime == null && f.handler == null && f.architectures == tolist(["arm64"])])
    error_message = "With package_type Image every function runs the tagged image from the repository, with no zip, runtime or handler."
  }
  assert {
    condition     = aws_lambda_function.migrate.environment[0].variables.ICY_MORNING_FUNCTION == "migrate"
    error_message = "The image's migrate function keeps its part (ICY_MORNING_FUNCTION=migrate)."
  }
  assert {
    condition     = aws_lambda_invocation.migrate.triggers.code == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/icy-morning-dev:v1.4.0"
    error_message = "A new image tag must run the migration again."
  }
  assert {
    condition     = aws_ecr_repository.main[0].name == "icy-morning-dev" && aws_ecr_repository.main[0].image_tag_mutability == "IMMUTABLE" && aws_ecr_repository.main[0].force_delete == false
    error_message = "The repository's tags must be immutable, and it must not be deleted with images in it."
  }
  assert {
    condition     = aws_ecr_repository.main[0].image_scanning_configuration[0].scan_on_push
    error_message = "Every push must be scanned."
  }
  assert {
    condition     = aws_ecr_repository.main[0].encryption_configuration[0].encryption_type == "KMS" && aws_ecr_repository.main[0].encryption_configuration[0].kms_key == aws_kms_key.main.arn
    error_message = "Images must be encrypted with the deployment's customer-managed key."
  }
  assert {
    condition = [for r in jsondecode(aws_ecr_lifecycle_policy.main[0].policy).rules : [r.selection.tagStatus, r.selection.countType, r.selection.countNumber, r.action.type]] == [
      ["untagged", "sinceImagePushed", 1, "expire"],
      ["any", "imageCountMoreThan", 30, "expire"],
    ]
    error_message = "The lifecycle policy must expire untagged images after a day and keep the newest 30 tagged ones."
  }
  assert {
    condition = (
      jsondecode(aws_ecr_repository_policy.lambda_pull[0].policy).Statement[0].Principal == { Service = "lambda.amazonaws.com" } &&
      jsondecode(aws_ecr_repository_policy.lambda_pull[0].policy).Statement[0].Action == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] &&
      jsondecode(aws_ecr_repository_policy.lambda_pull[0].policy).Statement[0].Condition.StringLike["aws:sourceArn"] == "arn:aws:lambda:eu-west-1:123456789012:function:icy-morning-dev-*"
    )
    error_message = "Only Lambda may pull, and only for this deployment's functions."
  }
}

run "image_on_x86_64" {
  command = plan
  variables {
    package_type        = "Image"
    image_tag           = "v1.4.0-amd64"
    lambda_architecture = "x86_64"
  }

  assert {
    condition     = aws_lambda_function.api.architectures == tolist(["x86_64"]) && endswith(aws_lambda_function.api.image_uri, ":v1.4.0-amd64")
    error_message = "The image's architecture follows lambda_architecture."
  }
}

run "image_needs_a_tag" {
  command = plan
  variables {
    package_type = "Image"
  }
  expect_failures = [var.image_tag]
}

run "image_tag_latest_refused" {
  command = plan
  variables {
    package_type = "Image"
    image_tag    = "latest"
  }
  expect_failures = [var.image_tag]
}

run "unknown_package_type" {
  command = plan
  variables {
    package_type = "Docker"
  }
  expect_failures = [var.package_type]
}

run "ecr_keep_too_few" {
  command = plan
  variables {
    package_type    = "Image"
    image_tag       = "v1"
    ecr_keep_images = 1
  }
  expect_failures = [var.ecr_keep_images]
}
