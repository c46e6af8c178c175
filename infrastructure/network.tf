# A VPC with private subnets only (by default): the functions and the database
# live there and reach Secrets Manager, SQS and the SES API through interface
# endpoints. Public subnets and a NAT gateway exist only when
# enable_nat_gateway asks.

resource "aws_vpc" "main" {
  cidr_block = var.vpc_cidr
  # Both are needed for the endpoints' private DNS names to resolve.
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.prefix }
}

# The default security group allows all traffic between its members; take every
# rule away so nothing can use it by accident.
resource "aws_default_security_group" "main" {
  vpc_id = aws_vpc.main.id

  tags = { Name = "${local.prefix}-default-unused" }
}

resource "aws_subnet" "private" {
  count = var.az_count

  vpc_id                  = aws_vpc.main.id
  availability_zone       = local.azs[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  map_public_ip_on_launch = false

  tags = { Name = "${local.prefix}-private-${local.azs[count.index]}", Tier = "private" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id

  tags = { Name = "${local.prefix}-private" }
}

resource "aws_route_table_association" "private" {
  count = var.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# --- optional egress to the internet --------------------------------------------

resource "aws_subnet" "public" {
  count = var.enable_nat_gateway ? var.az_count : 0

  vpc_id            = aws_vpc.main.id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, 8 + count.index)
  # Only the NAT gateway lives here, and it has its own Elastic IP.
  map_public_ip_on_launch = false

  tags = { Name = "${local.prefix}-public-${local.azs[count.index]}", Tier = "public" }
}

resource "aws_internet_gateway" "main" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.main.id
  tags   = { Name = local.prefix }
}

resource "aws_route_table" "public" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.main.id
  tags   = { Name = "${local.prefix}-public" }
}

resource "aws_route" "public_internet" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main[0].id
}

resource "aws_route_table_association" "public" {
  count = var.enable_nat_gateway ? var.az_count : 0

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count = var.enable_nat_gateway ? 1 : 0

  domain = "vpc"
  tags   = { Name = "${local.prefix}-nat" }
}

# One NAT gateway: a zone outage cuts internet egress but not the service,
# which needs the internet for nothing it does today (for SES only where
# enable_ses_endpoint is off).
resource "aws_nat_gateway" "main" {
  count = var.enable_nat_gateway ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
  tags          = { Name = local.prefix }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_route" "private_nat" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.main[0].id
}

# --- security groups ------------------------------------------------------------
# Rules are separate resources so each one is visible in a plan. A group
# created by Terraform starts without the default allow-all egress rule.

resource "aws_security_group" "function" {
  name_prefix = "${local.prefix}-function-"
  description = "Icy Morning functions (API and worker): no inbound; outbound to the database and the VPC endpoints only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.prefix}-function" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "endpoints" {
  name_prefix = "${local.prefix}-endpoints-"
  description = "Interface VPC endpoints: HTTPS from the functions only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.prefix}-endpoints" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "function_to_endpoints" {
  security_group_id            = aws_security_group.function.id
  description                  = "HTTPS to the Secrets Manager, SQS and SES endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "function_to_database" {
  security_group_id            = aws_security_group.function.id
  description                  = "PostgreSQL to the database, or to the RDS Proxy when enabled"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.enable_rds_proxy ? aws_security_group.proxy[0].id : aws_security_group.database.id
}

# Only with enable_nat_gateway: the point of the NAT gateway is outbound HTTPS.
resource "aws_vpc_security_group_egress_rule" "function_to_internet" {
  count = var.enable_nat_gateway ? 1 : 0

  security_group_id = aws_security_group.function.id
  description       = "HTTPS to the internet through the NAT gateway"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0" #trivy:ignore:AVD-AWS-0104 Internet egress exists only when enable_nat_gateway asks for it, and only HTTPS.
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_function" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the function"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.function.id
}

# --- interface endpoints for the AWS APIs the functions call -----------------------
# Secrets Manager (their secrets), SQS (the API's nudges) and the SES v2 API
# (both send mail; "email" is the HTTPS API, unlike "email-smtp"). An endpoint
# costs about 7 USD a month per zone, against about 33 plus data for a NAT
# gateway, and keeps the traffic off the internet. Lambda's own pollers and
# EventBridge reach the worker from outside the VPC and need none.

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(concat(["secretsmanager", "sqs"], var.enable_ses_endpoint ? ["email"] : []))

  vpc_id              = aws_vpc.main.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true

  tags = { Name = "${local.prefix}-${each.key}" }
}

# --- flow logs ---------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/aws/vpc/${local.prefix}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_flow_log" "main" {
  vpc_id                   = aws_vpc.main.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60

  tags = { Name = local.prefix }
}

resource "aws_iam_role" "flow_logs" {
  name_prefix = "${local.prefix}-flow-logs-"
  description = "VPC flow logs of ${local.prefix} write to their log group"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "flow_logs" {
  name = "write-flow-logs"
  role = aws_iam_role.flow_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"]
      Resource = [aws_cloudwatch_log_group.flow_logs.arn, "${aws_cloudwatch_log_group.flow_logs.arn}:*"]
    }]
  })
}
