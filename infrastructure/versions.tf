# Terraform and provider versions. Only hashicorp/aws is used: the deployment
# needs no random, null, archive or tls provider. Terraform 1.11 is the first
# with write-only arguments (secret_string_wo keeps the passwords out of the
# plan and the state); 1.9 already let variable validations read other
# variables (the SES sender ones do).
terraform {
  required_version = ">= 1.11"

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
