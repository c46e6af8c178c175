# Every input of the deployment. Defaults give a private, encrypted, low-cost
# stage; README.md lists them in a table. Validations reject values that AWS
# would otherwise reject only half-way through an apply.

# --- naming and placement -----------------------------------------------------

variable "aws_region" {
  description = "AWS Region to deploy into."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like eu-west-1 or us-gov-west-1."
  }
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "icy-morning"

  validation {
    # With stage, short enough for IAM role name prefixes (38 characters).
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name))
    error_message = "name must be 3-16 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "stage" {
  description = "Deployment stage (dev, staging, prod, ...); part of every resource name so stages can share an account."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,7}$", var.stage))
    error_message = "stage must be 1-8 lower-case letters or digits, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags for every resource (Project, Stage and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

# --- network -----------------------------------------------------------------

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC; private subnets are /20s (or smaller for small VPCs) carved from it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 22
    error_message = "vpc_cidr must be an IPv4 CIDR block between /16 and /22 (the sizes a VPC allows that still fit the subnets)."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread the private subnets over (RDS needs at least two)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 2 to 4."
  }
}

variable "enable_nat_gateway" {
  description = "Add public subnets, an internet gateway and one NAT gateway so the function can reach the internet (about 33 USD a month plus data). Off: the function reaches AWS only through VPC endpoints."
  type        = bool
  default     = false
}

# --- function ----------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the deployment package built by `make -C .. lambda`, relative to infrastructure/."
  type        = string
  default     = "../dist/icy-morning-lambda.zip"

  validation {
    # Not read when the functions run the container image.
    condition     = var.package_type == "Image" || (endswith(var.lambda_zip_path, ".zip") && fileexists(var.lambda_zip_path))
    error_message = "lambda_zip_path must name an existing .zip file: build it with `make -C .. lambda` (make create-deployment does this)."
  }
}

variable "package_type" {
  description = "How the three functions get the binary: Zip (lambda_zip_path, the default) or Image (the container image built by `make -C .. image`, pushed to the ECR repository this creates, tag image_tag)."
  type        = string
  default     = "Zip"

  validation {
    condition     = contains(["Zip", "Image"], var.package_type)
    error_message = "package_type must be Zip or Image."
  }
}

variable "image_tag" {
  description = "package_type Image: the tag of the image in the ECR repository (tags are immutable: one per build, such as the version `make image` prints)."
  type        = string
  default     = null

  validation {
    condition     = var.package_type == "Zip" || (var.image_tag != null && can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest")
    error_message = "package_type Image needs image_tag: an ECR tag (letters, digits, _ . -, at most 128) other than latest, which immutable tags would pin to the first push."
  }
}

variable "ecr_keep_images" {
  description = "package_type Image: how many tagged images the repository keeps; older ones expire (untagged ones after a day). Keep more than the versions you may roll back to."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_images >= 5 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be between 5 and 1000."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function: arm64 (cheaper per GB-second) or x86_64. The Makefile builds the zip to match."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the function in MB; CPU share grows with it."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "lambda_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Function timeout in seconds. Kept under API Gateway's 29-second integration limit so a slow request ends in the function's own error, not a gateway timeout."
  type        = number
  default     = 25

  validation {
    condition     = var.lambda_timeout_seconds >= 3 && var.lambda_timeout_seconds <= 28 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be a whole number from 3 to 28 (API Gateway gives up at 29 s)."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the API function. null (the default) computes it without the RDS Proxy so that its connections (this times db_max_conns), the worker's and the migrate function's stay within the instance class's max_connections (see README.md), and leaves it unreserved with the proxy; -1 leaves it unreserved. Accounts with the default concurrency quota of 10 cannot reserve any: set -1 there."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrency == null || var.lambda_reserved_concurrency == -1 || (coalesce(var.lambda_reserved_concurrency, 1) >= 1 && floor(coalesce(var.lambda_reserved_concurrency, 1)) == var.lambda_reserved_concurrency)
    error_message = "lambda_reserved_concurrency must be null (computed), -1 (unreserved) or a whole number of at least 1 (0 would stop the function)."
  }
}

variable "db_max_conns" {
  description = "Database connection pool size of each function instance (DB_MAX_CONNS)."
  type        = number
  default     = 2

  validation {
    condition     = var.db_max_conns >= 1 && var.db_max_conns <= 20 && floor(var.db_max_conns) == var.db_max_conns
    error_message = "db_max_conns must be a whole number from 1 to 20."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the function."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group (function, API access, VPC flow logs, PostgreSQL)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "basic_auth_username" {
  description = "User name of the API's Basic auth account (writes need it). Its password is generated once and kept in Secrets Manager."
  type        = string
  default     = "admin"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.basic_auth_username))
    error_message = "basic_auth_username must be 1-64 letters, digits, dots, underscores or hyphens (no colon: Basic auth splits on it)."
  }
}

# --- database ----------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class. The default burstable Graviton class is the cheapest that runs PostgreSQL 16."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.t4g.micro."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL version: major 16, optionally pinned to a minor (16.4). With the major only, RDS picks the newest minor and upgrades minors in the maintenance window."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^16(\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be 16 or 16.<minor>: the parameter group family is postgres16."
  }
}

variable "db_allocated_storage_gb" {
  description = "Initial gp3 storage in GB."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 65536
    error_message = "db_allocated_storage_gb must be from 20 to 65536 (the gp3 limits)."
  }
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GB; must be at least db_allocated_storage_gb."
  type        = number
  default     = 100

  validation {
    condition     = var.db_max_allocated_storage_gb >= 20 && var.db_max_allocated_storage_gb <= 65536
    error_message = "db_max_allocated_storage_gb must be from 20 to 65536."
  }
}

variable "db_name" {
  description = "Name of the application database."
  type        = string
  default     = "icy_morning"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and hold only lower-case letters, digits and underscores (at most 63)."
  }
}

variable "db_master_username" {
  description = "Master user name. Its password is generated and rotated by RDS in Secrets Manager; Terraform never sees it."
  type        = string
  default     = "icy_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_master_username)) && !contains(["postgres", "rdsadmin", "rds_superuser", "admin"], var.db_master_username)
    error_message = "db_master_username must start with a letter, hold only lower-case letters, digits and underscores, and not be a reserved name (postgres, rdsadmin, rds_superuser, admin)."
  }
}

variable "database_iam_auth" {
  description = "Connect with RDS IAM authentication tokens (DATABASE_IAM_AUTH=true) instead of the master password from Secrets Manager. The database user must then be granted rds_iam; see README.md."
  type        = bool
  default     = false
}

variable "db_multi_az" {
  description = "Run a standby instance in a second availability zone (doubles the instance cost)."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35 && floor(var.db_backup_retention_days) == var.db_backup_retention_days
    error_message = "db_backup_retention_days must be a whole number from 1 to 35: automated backups stay on."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database. Turn off only for a throwaway stage, or just before a deliberate teardown (make destroy-deployment does it when asked)."
  type        = bool
  default     = true
}

variable "db_skip_final_snapshot" {
  description = "Delete the database without a final snapshot. Only for a throwaway stage."
  type        = bool
  default     = false
}

variable "db_slow_statement_ms" {
  description = "log_min_duration_statement: statements slower than this many milliseconds are logged (-1 turns it off)."
  type        = number
  default     = 500

  validation {
    condition     = var.db_slow_statement_ms >= -1 && floor(var.db_slow_statement_ms) == var.db_slow_statement_ms
    error_message = "db_slow_statement_ms must be -1 or a whole number of milliseconds."
  }
}

variable "db_performance_insights" {
  description = "Enable Performance Insights (7 days of history are free), encrypted with the deployment's KMS key."
  type        = bool
  default     = true
}

variable "db_apply_immediately" {
  description = "Apply database changes now instead of in the next maintenance window."
  type        = bool
  default     = false
}

variable "enable_rds_proxy" {
  description = "Put an RDS Proxy between the function and the database, for high function concurrency. Costs about 22 USD a month for a 2-vCPU instance class (priced per vCPU of the database)."
  type        = bool
  default     = false
}

# --- encryption and secrets ----------------------------------------------------

variable "kms_deletion_window_days" {
  description = "Waiting period before the KMS key is deleted after a teardown. Final snapshots are encrypted with it: cancel the deletion to keep them restorable."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be from 7 to 30."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted Secrets Manager secret can be restored; 0 deletes at once (throwaway stages)."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or from 7 to 30."
  }
}

# --- API -----------------------------------------------------------------------

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second allowed by the API stage."
  type        = number
  default     = 50

  validation {
    condition     = var.api_throttling_rate_limit > 0
    error_message = "api_throttling_rate_limit must be positive."
  }
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests allowed by the API stage."
  type        = number
  default     = 100

  validation {
    condition     = var.api_throttling_burst_limit >= 1 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number of at least 1."
  }
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser; empty turns CORS off (same-origin use and non-browser clients need none)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allow_origins : o == "*" || can(regex("^https?://[^/]+$", o))])
    error_message = "cors_allow_origins entries must be \"*\" or scheme://host[:port] without a path."
  }
}

variable "cors_allow_methods" {
  description = "Methods allowed in CORS requests."
  type        = list(string)
  default     = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

  validation {
    condition     = alltrue([for m in var.cors_allow_methods : contains(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "*"], m)])
    error_message = "cors_allow_methods entries must be HTTP methods in upper case (or *)."
  }
}

variable "cors_allow_headers" {
  description = "Request headers allowed in CORS requests."
  type        = list(string)
  default     = ["authorization", "content-type", "if-match", "if-none-match"]
}

variable "cors_allow_credentials" {
  description = "Let browsers send credentials (the Authorization header) with CORS requests; not allowed with the origin \"*\"."
  type        = bool
  default     = false
}

variable "cors_max_age_seconds" {
  description = "How long browsers may cache a CORS preflight answer."
  type        = number
  default     = 300

  validation {
    condition     = var.cors_max_age_seconds >= 0 && var.cors_max_age_seconds <= 86400
    error_message = "cors_max_age_seconds must be from 0 to 86400."
  }
}

# --- custom domain ---------------------------------------------------------------

variable "enable_custom_domain" {
  description = "Serve the API on api_gateway_domain with a certificate imported into ACM from certificates_dir."
  type        = bool
  default     = false
}

variable "api_gateway_domain" {
  description = "Custom domain name of the API (for example api.example.com); required when enable_custom_domain is true."
  type        = string
  default     = null

  validation {
    condition     = var.api_gateway_domain == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", coalesce(var.api_gateway_domain, "x.invalid")))
    error_message = "api_gateway_domain must be a lower-case DNS name such as api.example.com."
  }
}

variable "api_gateway_certificate_name" {
  description = "Name tag of the imported ACM certificate; defaults to the domain name."
  type        = string
  default     = null
}

variable "certificates_dir" {
  description = "Directory holding certificate.crt, certificate.key and ca.crt (PEM) for the custom domain, relative to infrastructure/."
  type        = string
  default     = "certs"
}

# --- CDN and HTTP caching (cdn.tf) ------------------------------------------------------

variable "enable_cdn" {
  description = "Put a CloudFront distribution in front of the HTTP API: GET and HEAD cached as the API's Cache-Control allows, the worker invalidating after writes, the function refusing requests that bypass it (X-Origin-Verify). Served on its *.cloudfront.net name."
  type        = bool
  default     = false

  validation {
    condition     = !(var.enable_cdn && var.reads_require_auth)
    error_message = "enable_cdn with reads_require_auth caches nothing: every read then needs Authorization, which CloudFront drops from cached GETs, and the API marks authenticated answers private. Leave the CDN off, or the reads open."
  }
  validation {
    condition     = !(var.enable_cdn && var.enable_custom_domain)
    error_message = "enable_cdn with enable_custom_domain is not built: the CDN serves its *.cloudfront.net name (a custom name needs an alias and a certificate in ACM in us-east-1), and the custom domain would reach the API directly, which refuses requests that bypass the CDN."
  }
}

variable "cdn_price_class" {
  description = "CloudFront price class: PriceClass_100 (North America, Europe, Israel: cheapest), PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cdn_price_class)
    error_message = "cdn_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "cdn_web_acl_arn" {
  description = "ARN of an AWS WAF (WAFv2) web ACL with scope CLOUDFRONT (created in us-east-1) to attach to the distribution; null for none. A web ACL costs about 5 USD a month plus 1 USD per rule and 0.60 USD per million requests."
  type        = string
  default     = null

  validation {
    condition     = var.cdn_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/[^/]+/[^/]+$", coalesce(var.cdn_web_acl_arn, "x")))
    error_message = "cdn_web_acl_arn must be a WAFv2 web ACL ARN with scope CLOUDFRONT: arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>."
  }
}

variable "cdn_invalidation_daily_paths" {
  description = "CDN_INVALIDATION_DAILY_PATHS: the most paths the worker invalidates in a UTC day (0: no limit). CloudFront bills 0.005 USD a path past 1,000 a month; the default 30 stays within that. Past the budget, cached reads refresh by CACHE_S_MAXAGE + 30 s until the next day."
  type        = number
  default     = 30

  validation {
    condition     = var.cdn_invalidation_daily_paths >= 0 && floor(var.cdn_invalidation_daily_paths) == var.cdn_invalidation_daily_paths
    error_message = "cdn_invalidation_daily_paths must be a whole number, 0 or more."
  }
}

variable "cdn_max_ttl" {
  description = "Longest time in seconds CloudFront keeps an answer, whatever the API's Cache-Control says (the cache policy's max TTL; its minimum and default are 0, so the API's s-maxage or max-age decides)."
  type        = number
  default     = 3600

  validation {
    condition     = var.cdn_max_ttl >= 1 && var.cdn_max_ttl <= 31536000 && floor(var.cdn_max_ttl) == var.cdn_max_ttl
    error_message = "cdn_max_ttl must be a whole number of seconds from 1 to 31536000."
  }
}

variable "cdn_origin_secret_version" {
  description = "Generation of the X-Origin-Verify value CloudFront sends to the API (in the state; see README). Raise it by one to rotate the value."
  type        = number
  default     = 1

  validation {
    condition     = var.cdn_origin_secret_version >= 1 && floor(var.cdn_origin_secret_version) == var.cdn_origin_secret_version
    error_message = "cdn_origin_secret_version must be a whole number of at least 1."
  }
}

variable "cache_max_age" {
  description = "CACHE_MAX_AGE: seconds a client (browser, library) may reuse a public read (Cache-Control max-age). Both functions; set only when not the binary's default 0."
  type        = number
  default     = 0

  validation {
    condition     = var.cache_max_age >= 0 && var.cache_max_age <= 86400 && floor(var.cache_max_age) == var.cache_max_age
    error_message = "cache_max_age must be a whole number of seconds from 0 to 86400."
  }
}

variable "cache_s_maxage" {
  description = "CACHE_S_MAXAGE: seconds a shared cache (CloudFront, a proxy) may serve a public read (Cache-Control s-maxage); with the binary's fixed stale-while-revalidate of 30 s this bounds staleness when an invalidation fails. Both functions; set only when not the binary's default 60."
  type        = number
  default     = 60

  validation {
    condition     = var.cache_s_maxage >= 0 && var.cache_s_maxage <= 86400 && floor(var.cache_s_maxage) == var.cache_s_maxage
    error_message = "cache_s_maxage must be a whole number of seconds from 0 to 86400."
  }
}

# --- observability -----------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (AWS sends a confirmation mail first); null for no subscription."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", coalesce(var.alarm_email, "a@b.c")))
    error_message = "alarm_email must be an e-mail address."
  }
}

variable "alarm_thresholds" {
  description = "Alarm thresholds; leave out a member to keep its default. lambda_duration_ms defaults to 80% of the function timeout."
  type = object({
    api_5xx_count                = optional(number, 5)
    api_4xx_count                = optional(number, 200)
    api_latency_p99_ms           = optional(number, 3000)
    lambda_errors                = optional(number, 5)
    lambda_throttles             = optional(number, 1)
    lambda_duration_ms           = optional(number)
    lambda_concurrent_executions = optional(number, 50)
    db_cpu_percent               = optional(number, 80)
    db_connections               = optional(number, 60)
    db_free_storage_gb           = optional(number, 2)
    worker_errors                = optional(number, 5)
    ses_bounce_rate              = optional(number, 0.05)
    ses_complaint_rate           = optional(number, 0.001)
  })
  default = {}

  validation {
    condition     = alltrue([for k, v in var.alarm_thresholds : v == null ? true : v > 0])
    error_message = "alarm_thresholds members must be positive."
  }
}

# --- events ------------------------------------------------------------------------

variable "asset_events_max_receive_count" {
  description = "Receives of a nudge on the asset-events queue (the worker failed it each time) before it moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.asset_events_max_receive_count >= 1 && var.asset_events_max_receive_count <= 1000
    error_message = "asset_events_max_receive_count must be from 1 to 1000."
  }
}

# --- notifications -------------------------------------------------------------------
# Subscribers are mailed through Amazon SES from one verified identity: a
# domain (DKIM-signed, any address at it may send) or a single address.
# Exactly one of the two is required: SES sends nothing without one.

variable "ses_sender_domain" {
  description = "Domain to verify in SES and send from (Easy DKIM, 2048-bit). With ses_route53_zone_id Terraform writes its three DKIM CNAME records; otherwise create them from the ses_dkim_records output. Set this or ses_sender_address, not both."
  type        = string
  default     = null

  validation {
    condition     = var.ses_sender_domain == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", coalesce(var.ses_sender_domain, "x.invalid")))
    error_message = "ses_sender_domain must be a lower-case DNS name such as example.com."
  }
  validation {
    # Terraform >= 1.9: a validation may read other variables.
    condition     = (var.ses_sender_domain == null) != (var.ses_sender_address == null)
    error_message = "Set exactly one of ses_sender_domain (verify a domain) and ses_sender_address (verify one address): SES sends only from a verified identity."
  }
}

variable "ses_sender_address" {
  description = "Single e-mail address to verify in SES and send from (SES mails it a verification link on apply). For trying things out; production should verify a domain. Set this or ses_sender_domain, not both."
  type        = string
  default     = null

  validation {
    condition     = var.ses_sender_address == null || can(regex("^[^@\\s<>]+@[^@\\s<>]+\\.[^@\\s<>]+$", coalesce(var.ses_sender_address, "a@b.c")))
    error_message = "ses_sender_address must be a bare e-mail address (no display name)."
  }
}

variable "mail_from" {
  description = "MAIL_FROM of both functions: an address, or Name <address>, at the verified identity. Default: \"Icy Morning <notifications@DOMAIN>\" or \"Icy Morning <ADDRESS>\"."
  type        = string
  default     = null

  validation {
    condition     = var.mail_from == null || can(regex("^([^<>]*<)?[^@\\s<>]+@[^@\\s<>]+>?$", coalesce(var.mail_from, "a@b.c")))
    error_message = "mail_from must be an address or Name <address>."
  }
  validation {
    # SES refuses a From outside the verified identity, and the functions'
    # policy allows sending only as that identity.
    condition = var.mail_from == null || (
      var.ses_sender_address != null
      ? lower(try(regex("([^@\\s<>]+@[^@\\s<>]+)>?$", coalesce(var.mail_from, "a@b.c"))[0], "")) == lower(coalesce(var.ses_sender_address, "a@b.c"))
      : can(regex("[@.]${replace(coalesce(var.ses_sender_domain, "x.invalid"), ".", "\\.")}>?$", lower(coalesce(var.mail_from, "a@b.c"))))
    )
    error_message = "mail_from's address must be ses_sender_address, or an address at ses_sender_domain (or a subdomain of it)."
  }
}

variable "ses_route53_zone_id" {
  description = "Route 53 hosted zone of ses_sender_domain; when set, Terraform writes the DKIM CNAME records there. Null: create them yourself (output ses_dkim_records)."
  type        = string
  default     = null

  validation {
    condition     = var.ses_route53_zone_id == null || can(regex("^Z[0-9A-Z]{1,32}$", coalesce(var.ses_route53_zone_id, "Z1")))
    error_message = "ses_route53_zone_id must be a hosted zone id such as Z0123456789ABCDEFGHIJ."
  }
  validation {
    condition     = var.ses_route53_zone_id == null || var.ses_sender_domain != null
    error_message = "ses_route53_zone_id is for the DKIM records of ses_sender_domain; an address identity has none."
  }
}

variable "ses_sandbox_recipients" {
  description = "While the account is in the SES sandbox, SES sends only to verified addresses and also authorizes each recipient's identity: these addresses are verified (SES mails each a link) and added to the functions' send permission. Leave empty once production access is granted."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.ses_sandbox_recipients : can(regex("^[^@\\s<>]+@[^@\\s<>]+\\.[^@\\s<>]+$", a))])
    error_message = "ses_sandbox_recipients entries must be bare e-mail addresses."
  }
}

variable "ses_max_send_rate" {
  description = "The account's SES maximum send rate in messages per second (the Service Quotas console shows it: 1 in the sandbox, 14 at first in production). The workers split it between them so that together they stay under it."
  type        = number
  default     = 14

  validation {
    condition     = var.ses_max_send_rate > 0
    error_message = "ses_max_send_rate must be positive."
  }
}

variable "worker_max_concurrency" {
  description = "Most worker instances the nudge queue's event source mapping runs at once (SQS scaling_config; AWS's minimum is 2). Each holds up to db_max_conns database connections and gets its share of ses_max_send_rate."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_max_concurrency >= 2 && var.worker_max_concurrency <= 1000 && floor(var.worker_max_concurrency) == var.worker_max_concurrency
    error_message = "worker_max_concurrency must be a whole number from 2 (the least Lambda accepts) to 1000."
  }
}

variable "worker_timeout_seconds" {
  description = "Timeout of the worker function. The nudge queue's visibility timeout is six times this (AWS's advice for Lambda consumers), and a claimed delivery is left to its sender for at least twice this (NOTIFY_CLAIM_TIMEOUT)."
  type        = number
  default     = 60

  validation {
    condition     = var.worker_timeout_seconds >= 10 && var.worker_timeout_seconds <= 900 && floor(var.worker_timeout_seconds) == var.worker_timeout_seconds
    error_message = "worker_timeout_seconds must be a whole number from 10 to 900 (Lambda's limit)."
  }
}

variable "enable_ses_endpoint" {
  description = "Reach the SES API from the private subnets through an interface endpoint (com.amazonaws.<region>.email, about 7 USD a month per zone). Turn off only where the Region has no such endpoint, with enable_nat_gateway on instead."
  type        = bool
  default     = true

  validation {
    condition     = var.enable_ses_endpoint || var.enable_nat_gateway
    error_message = "Without the SES endpoint the functions can reach SES only through the NAT gateway: set enable_nat_gateway = true too."
  }
}

# --- single sign-on (auth.tf) ----------------------------------------------------------

variable "auth_type" {
  description = "How the API authenticates writes (AUTH_TYPE): basic (the Basic auth secret, as before), jwt (OpenID Connect bearer tokens only; no Basic secret), or basic,jwt (both). The function verifies every token itself, so it fetches the issuer's discovery document and keys over the internet: jwt needs enable_nat_gateway."
  type        = string
  default     = "basic"

  validation {
    condition     = contains(["basic", "jwt", "basic,jwt"], var.auth_type)
    error_message = "auth_type must be basic, jwt or basic,jwt."
  }
  validation {
    condition     = var.auth_type == "basic" || var.enable_nat_gateway
    error_message = "auth_type with jwt needs enable_nat_gateway = true: the function fetches the issuer's discovery document and signing keys over HTTPS (a Cognito user pool with a domain cannot be reached through PrivateLink)."
  }
}

variable "enable_cognito" {
  description = "Create an Amazon Cognito user pool as the issuer: a resource server (icy-morning/read, icy-morning/write), a public app client for the docs' login (authorization code + PKCE), a hosted UI domain and a writers group. Only with auth_type jwt or basic,jwt; the oidc_* issuer variables must then stay unset."
  type        = bool
  default     = false

  validation {
    condition     = !var.enable_cognito || var.auth_type != "basic"
    error_message = "enable_cognito needs auth_type = \"jwt\" or \"basic,jwt\"."
  }
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito hosted UI domain (<prefix>.auth.<region>.amazoncognito.com); unique in the Region across all accounts. Default: <name>-<stage>-<account id>."
  type        = string
  default     = null

  validation {
    condition     = var.cognito_domain_prefix == null || (can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.cognito_domain_prefix, "x"))) && !can(regex("aws|amazon|cognito", coalesce(var.cognito_domain_prefix, "x"))))
    error_message = "cognito_domain_prefix must be 1-63 lower-case letters, digits and inner hyphens, without the reserved words aws, amazon and cognito."
  }
}

variable "cognito_mfa_configuration" {
  description = "MFA of the Cognito user pool: OPTIONAL (each user may add an authenticator app) or ON (every user must)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OPTIONAL", "ON"], var.cognito_mfa_configuration)
    error_message = "cognito_mfa_configuration must be OPTIONAL or ON (OFF is not offered)."
  }
}

variable "cognito_write_group" {
  description = "Cognito group whose members may write with any access token (OIDC_GROUPS_CLAIM = cognito:groups, OIDC_WRITE_GROUP): tokens from the CLI (admin-initiate-auth) carry groups but no custom scopes."
  type        = string
  default     = "writers"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.cognito_write_group))
    error_message = "cognito_write_group must be 1-128 letters, digits, underscores or hyphens."
  }
}

variable "oidc_issuer_url" {
  description = "An external OpenID Connect issuer (OIDC_ISSUER_URL; discovery at <issuer>/.well-known/openid-configuration), for jwt without enable_cognito. Exactly as the tokens' iss claim, https."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_issuer_url == null || can(regex("^https://[^/?#\\s]+(/[^?#\\s]*)?$", coalesce(var.oidc_issuer_url, "x")))
    error_message = "oidc_issuer_url must be an https URL without query or fragment."
  }
  validation {
    condition     = var.auth_type == "basic" || var.enable_cognito || var.oidc_issuer_url != null
    error_message = "auth_type with jwt needs an issuer: enable_cognito = true or oidc_issuer_url."
  }
  validation {
    condition     = !(var.enable_cognito && var.oidc_issuer_url != null)
    error_message = "Set either enable_cognito or oidc_issuer_url, not both."
  }
}

variable "oidc_audience" {
  description = "OIDC_AUDIENCE: the aud value tokens must carry (external issuer)."
  type        = string
  default     = null
}

variable "oidc_client_ids" {
  description = "OIDC_CLIENT_IDS: client ids whose access tokens are accepted by client_id (Cognito access tokens carry no aud). External issuer; with enable_cognito the docs client is used."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.oidc_client_ids : can(regex("^[^,\\s]+$", c))])
    error_message = "oidc_client_ids must not contain commas or spaces."
  }
  validation {
    condition     = var.auth_type == "basic" || var.enable_cognito || var.oidc_audience != null || length(var.oidc_client_ids) > 0
    error_message = "With an external issuer set oidc_audience or oidc_client_ids (or both): the function must check whom a token is for."
  }
}

variable "oidc_write_scope" {
  description = "OIDC_WRITE_SCOPE: the scope that permits writes (scope or scp claim). With enable_cognito always icy-morning/write."
  type        = string
  default     = "icy-morning/write"

  validation {
    condition     = can(regex("^[!#-\\[\\]-~]+$", var.oidc_write_scope))
    error_message = "oidc_write_scope must be one scope token (no spaces, quotes or backslashes)."
  }
}

variable "oidc_groups_claim" {
  description = "OIDC_GROUPS_CLAIM: the claim that lists a user's groups (e.g. groups, roles). With oidc_write_group; external issuer only."
  type        = string
  default     = null
}

variable "oidc_write_group" {
  description = "OIDC_WRITE_GROUP: the group in oidc_groups_claim that permits writes; external issuer only."
  type        = string
  default     = null

  validation {
    condition     = (var.oidc_groups_claim == null) == (var.oidc_write_group == null)
    error_message = "Set oidc_groups_claim and oidc_write_group together, or neither."
  }
  validation {
    condition     = !var.enable_cognito || (var.oidc_write_group == null && var.oidc_groups_claim == null && var.oidc_audience == null && length(var.oidc_client_ids) == 0)
    error_message = "With enable_cognito the audience, client ids and groups come from the user pool: leave oidc_audience, oidc_client_ids, oidc_groups_claim and oidc_write_group unset."
  }
}

variable "reads_require_auth" {
  description = "READS_REQUIRE_AUTH: reading assets and analysts needs credentials too (any valid ones; writes still need the write permission)."
  type        = bool
  default     = false
}

variable "oidc_docs_client_id" {
  description = "OIDC_DOCS_CLIENT_ID: the public client (authorization code + PKCE) Swagger UI at /docs logs in with, at the external issuer. With enable_cognito the pool's docs client."
  type        = string
  default     = null
}

variable "enable_api_jwt_authorizer" {
  description = "Also verify bearer tokens in API Gateway (an HTTP API JWT authorizer) on the write routes, the subscription list and the delivery log: a second gate in front of the function, which still verifies every token. Only with auth_type = \"jwt\": API Gateway would refuse Basic credentials on those routes."
  type        = bool
  default     = false

  validation {
    condition     = !var.enable_api_jwt_authorizer || var.auth_type == "jwt"
    error_message = "enable_api_jwt_authorizer needs auth_type = \"jwt\" exactly: on its routes API Gateway refuses every request without a valid bearer token, Basic credentials included."
  }
}
