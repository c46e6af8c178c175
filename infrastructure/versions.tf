# Terraform and provider versions. Only hashicorp/aws is used: the deployment
# needs no random, null, archive or tls provider. Terraform 1.9 is the first
# whose variable validations may read other variables (the SES sender ones do).
terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # State is local by default. `make backend` writes backend.tf with an S3
  # backend for teams; see README.md.
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      Project   = var.name
      Stage     = var.stage
      ManagedBy = "terraform"
    })
  }
}
