# package_type = "Image": the ECR repository the container image is pushed
# to, and the URI the three functions run. Tags are immutable (a tag is one
# build for good, so a version's function always runs what was tested),
# every push is scanned, images are encrypted with the deployment's key, and
# old images expire. The functions pull by the tag's URI; Lambda resolves it
# to a digest when it publishes a version.

locals {
  lambda_image     = var.package_type == "Image"
  ecr_repository   = local.prefix
  lambda_image_uri = local.lambda_image ? "${aws_ecr_repository.main[0].repository_url}:${var.image_tag}" : null
}

resource "aws_ecr_repository" "main" {
  count = local.lambda_image ? 1 : 0

  name                 = local.ecr_repository
  image_tag_mutability = "IMMUTABLE"
  # A repository that still holds images is not deleted by accident.
  force_delete = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
}

resource "aws_ecr_lifecycle_policy" "main" {
  count = local.lambda_image ? 1 : 0

  repository = aws_ecr_repository.main[0].name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Untagged images (replaced layers of a multi-platform push) after a day"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 1 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest ${var.ecr_keep_images} tagged images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.ecr_keep_images }
        action       = { type = "expire" }
      },
    ]
  })
}

# Lambda pulls the image itself: only for this deployment's functions.
resource "aws_ecr_repository_policy" "lambda_pull" {
  count = local.lambda_image ? 1 : 0

  repository = aws_ecr_repository.main[0].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaPullsForThisDeployment"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Condition = {
        StringLike = { "aws:sourceArn" = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.prefix}-*" }
      }
    }]
  })
}
