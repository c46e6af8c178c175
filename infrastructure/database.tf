# RDS PostgreSQL 16 in the private subnets: encrypted with the deployment's
# KMS key, never public, its master password created and rotated by RDS in
# Secrets Manager, IAM authentication available, slow statements logged.

resource "aws_db_subnet_group" "main" {
  name        = local.prefix
  description = "Private subnets of ${local.prefix}"
  subnet_ids  = aws_subnet.private[*].id
}

resource "aws_security_group" "database" {
  name_prefix = "${local.prefix}-database-"
  description = "PostgreSQL: 5432 from the function (or the RDS Proxy) only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.prefix}-database" }

  lifecycle {
    create_before_destroy = true
  }
}

# The one way into the database: from the function's security group, or from
# the proxy's when the proxy sits in between.
resource "aws_vpc_security_group_ingress_rule" "database_from_client" {
  security_group_id            = aws_security_group.database.id
  description                  = var.enable_rds_proxy ? "PostgreSQL from the RDS Proxy" : "PostgreSQL from the function"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.enable_rds_proxy ? aws_security_group.proxy[0].id : aws_security_group.function.id
}

resource "aws_db_parameter_group" "main" {
  name_prefix = "${local.prefix}-pg16-"
  family      = "postgres16"
  description = "${local.prefix}: TLS only, slow statements and lock waits logged"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.db_slow_statement_ms)
  }

  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  parameter {
    name  = "log_temp_files"
    value = "10240" # kB: sorts and hashes that spill more than 10 MB to disk
  }

  lifecycle {
    create_before_destroy = true
  }
}

# RDS creates these groups on first export with no retention; creating them
# first gives them a retention period and the KMS key.
resource "aws_cloudwatch_log_group" "database" {
  for_each = toset(local.db_log_exports)

  name              = "/aws/rds/instance/${local.prefix}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

locals {
  db_log_exports = ["postgresql", "upgrade"]
}

resource "aws_db_instance" "main" {
  identifier     = local.prefix
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  db_name                             = var.db_name
  username                            = var.db_master_username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.main.key_id
  iam_database_authentication_enabled = true

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.main.arn

  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  parameter_group_name   = aws_db_parameter_group.main.name

  backup_retention_period    = var.db_backup_retention_days
  backup_window              = "02:00-03:00"
  maintenance_window         = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot      = true
  auto_minor_version_upgrade = true
  apply_immediately          = var.db_apply_immediately

  deletion_protection = var.db_deletion_protection
  skip_final_snapshot = var.db_skip_final_snapshot
  # Always named, even when skip_final_snapshot is true: a throwaway stage
  # later switched to keep snapshots must still destroy (RDS refuses a final
  # snapshot without a name, and ignore_changes below keeps the first one).
  final_snapshot_identifier = "${local.prefix}-final-${formatdate("YYYYMMDDhhmmss", plantimestamp())}"

  enabled_cloudwatch_logs_exports       = local.db_log_exports
  performance_insights_enabled          = var.db_performance_insights
  performance_insights_kms_key_id       = var.db_performance_insights ? aws_kms_key.main.arn : null
  performance_insights_retention_period = var.db_performance_insights ? 7 : null

  lifecycle {
    # The snapshot name records when the instance was created; later plans
    # must not rename it, or every plan would show a change.
    ignore_changes = [final_snapshot_identifier]

    precondition {
      condition     = var.db_max_allocated_storage_gb >= var.db_allocated_storage_gb
      error_message = "db_max_allocated_storage_gb must be at least db_allocated_storage_gb."
    }
  }

  depends_on = [aws_cloudwatch_log_group.database]
}

locals {
  # The master secret is RDS's own: {"username": ..., "password": ...}. Only
  # the migrate function and the RDS Proxy read it.
  db_master_secret_arn = aws_db_instance.main.master_user_secret[0].secret_arn

  # The API and worker functions' role, created by a migration (owner of
  # nothing; reads and writes the service's tables).
  app_db_username = "icy_app"
  # icy_app signs in with IAM tokens at the database itself only in IAM mode
  # without the proxy; through the proxy (which signs in with a password on
  # the client's behalf) and in password mode it has the app secret.
  app_db_iam_at_database = var.database_iam_auth && !var.enable_rds_proxy
  app_db_password_auth   = !local.app_db_iam_at_database
  app_db_secret_arn      = local.app_db_password_auth ? aws_secretsmanager_secret.app_db[0].arn : null
}

# --- optional RDS Proxy ------------------------------------------------------------
# Pools connections for many concurrent function instances. The function
# authenticates to the proxy with the same method it would use on the database
# (the master secret's password, or an IAM token); the proxy signs in to the
# database with the RDS-managed master secret.

resource "aws_security_group" "proxy" {
  count = var.enable_rds_proxy ? 1 : 0

  name_prefix = "${local.prefix}-proxy-"
  description = "RDS Proxy: 5432 from the function; 5432 to the database, 443 to the Secrets Manager endpoint"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.prefix}-proxy" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "proxy_from_function" {
  count = var.enable_rds_proxy ? 1 : 0

  security_group_id            = aws_security_group.proxy[0].id
  description                  = "PostgreSQL from the function"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.function.id
}

resource "aws_vpc_security_group_egress_rule" "proxy_to_database" {
  count = var.enable_rds_proxy ? 1 : 0

  security_group_id            = aws_security_group.proxy[0].id
  description                  = "PostgreSQL to the database"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

# The proxy fetches the master secret itself, from inside the VPC: through the
# Secrets Manager endpoint (or the NAT gateway, when there is one).
resource "aws_vpc_security_group_egress_rule" "proxy_to_endpoints" {
  count = var.enable_rds_proxy ? 1 : 0

  security_group_id            = aws_security_group.proxy[0].id
  description                  = "HTTPS to the Secrets Manager endpoint"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_proxy" {
  count = var.enable_rds_proxy ? 1 : 0

  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the RDS Proxy"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.proxy[0].id
}

resource "aws_iam_role" "proxy" {
  count = var.enable_rds_proxy ? 1 : 0

  name_prefix = "${local.prefix}-proxy-"
  description = "RDS Proxy of ${local.prefix} reads the database secrets"
  # No aws:SourceAccount condition: AWS's RDS Proxy set-up pages ("Setting up
  # database credentials for RDS Proxy", "Configuring IAM authentication for
  # RDS Proxy") show this trust policy without one, and no page documents
  # that RDS sends aws:SourceAccount when the proxy assumes its role (the
  # "Preventing cross-service confused deputy problems" page of the RDS User
  # Guide recommends the keys for resource policies in general). A condition
  # the service does not send would lock the proxy out of its secrets; only
  # principals of this account allowed iam:PassRole can give the role to a
  # proxy.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "proxy" {
  count = var.enable_rds_proxy ? 1 : 0

  name = "read-database-secrets"
  role = aws_iam_role.proxy[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadDatabaseSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = compact([local.db_master_secret_arn, local.app_db_secret_arn])
      },
      {
        Sid      = "DecryptDatabaseSecrets"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.main.arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "secretsmanager.${local.region}.amazonaws.com" }
        }
      },
    ]
  })
}

# RDS creates the proxy's log group on first use, without retention or the
# key; creating it first gives it both.
resource "aws_cloudwatch_log_group" "proxy" {
  count = var.enable_rds_proxy ? 1 : 0

  name              = "/aws/rds/proxy/${local.prefix}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_db_proxy" "main" {
  count = var.enable_rds_proxy ? 1 : 0

  name                   = local.prefix
  engine_family          = "POSTGRESQL"
  role_arn               = aws_iam_role.proxy[0].arn
  vpc_subnet_ids         = aws_subnet.private[*].id
  vpc_security_group_ids = [aws_security_group.proxy[0].id]
  require_tls            = true
  idle_client_timeout    = 1800

  # The migrate function signs in as the master user with its password
  # (IAM must never be the only way in on the apply that creates the
  # database); the API and worker functions as icy_app, with an IAM token in
  # IAM mode. The proxy signs in to the database with each user's secret.
  auth {
    description               = "RDS-managed master secret (the migrate function)"
    auth_scheme               = "SECRETS"
    secret_arn                = local.db_master_secret_arn
    iam_auth                  = "DISABLED"
    client_password_auth_type = "POSTGRES_SCRAM_SHA_256"
  }

  auth {
    description               = "${local.app_db_username} (the API and worker functions)"
    auth_scheme               = "SECRETS"
    secret_arn                = local.app_db_secret_arn
    iam_auth                  = var.database_iam_auth ? "REQUIRED" : "DISABLED"
    client_password_auth_type = "POSTGRES_SCRAM_SHA_256"
  }

  depends_on = [aws_iam_role_policy.proxy, aws_cloudwatch_log_group.proxy]
}

resource "aws_db_proxy_default_target_group" "main" {
  count = var.enable_rds_proxy ? 1 : 0

  db_proxy_name = aws_db_proxy.main[0].name

  connection_pool_config {
    max_connections_percent      = 90
    max_idle_connections_percent = 50
    connection_borrow_timeout    = 10
  }
}

resource "aws_db_proxy_target" "main" {
  count = var.enable_rds_proxy ? 1 : 0

  db_proxy_name          = aws_db_proxy.main[0].name
  target_group_name      = aws_db_proxy_default_target_group.main[0].name
  db_instance_identifier = aws_db_instance.main.identifier
}

locals {
  db_endpoint_host = var.enable_rds_proxy ? aws_db_proxy.main[0].endpoint : aws_db_instance.main.address

  # No password here: the binary adds it from DATABASE_SECRET_ARN, or signs
  # an IAM token when DATABASE_IAM_AUTH is true. The API and worker connect as
  # icy_app, the migrate function as the master user.
  app_database_url     = "postgres://${local.app_db_username}@${local.db_endpoint_host}:5432/${var.db_name}?sslmode=verify-full"
  migrate_database_url = "postgres://${var.db_master_username}@${local.db_endpoint_host}:5432/${var.db_name}?sslmode=verify-full"

  # rds-db:connect is granted on the proxy's resource id (prx-...) when the
  # function connects through the proxy, on the instance's (db-...) otherwise,
  # and only for icy_app: the master user never signs in with a token.
  db_connect_resource_id = var.enable_rds_proxy ? element(split(":", aws_db_proxy.main[0].arn), 6) : aws_db_instance.main.resource_id
  db_connect_arn         = "arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${local.db_connect_resource_id}/${local.app_db_username}"
}
