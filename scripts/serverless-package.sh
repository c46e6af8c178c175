#!/usr/bin/env bash
# make serverless-package: packages deploy/serverless/serverless.yml with
# the pinned Serverless Framework v3, offline: dummy credentials (package
# calls no AWS API), no telemetry, no update or notification checks. The
# parameters are placeholders in the shape of real ones; the CloudFormation
# template lands in deploy/serverless/.serverless/, where
# cmd/icy-morning's TestServerlessTemplate reads it.
set -euo pipefail
cd "$(dirname "$0")/../deploy/serverless"

zip=../../dist/icy-morning-lambda.zip
[ -f "$zip" ] || { echo "serverless-package: $zip is missing: run make lambda first" >&2; exit 1; }
[ -x node_modules/.bin/serverless ] || npm ci --no-audit --no-fund

acct=123456789012
region=eu-west-1
arn() { echo "arn:aws:$1:$region:$acct:$2"; }
params=(
  "region=$region"
  "privateSubnetIds=subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2"
  "functionSecurityGroupId=sg-0ccccccccccccccc3"
  "appDatabaseUrl=postgres://icy_app@icy-morning-ci.abcdefghij.$region.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full"
  "migrateDatabaseUrl=postgres://icy_admin@icy-morning-ci.abcdefghij.$region.rds.amazonaws.com:5432/icy_morning?sslmode=verify-full"
  "appDatabaseSecretArn=$(arn secretsmanager secret:icy-morning-ci/database-app-AbCdEf)"
  "masterDatabaseSecretArn=$(arn secretsmanager 'secret:rds!db-0123-AbCdEf')"
  "basicAuthSecretArn=$(arn secretsmanager secret:icy-morning-ci/basic-auth-AbCdEf)"
  "notifySecretArn=$(arn secretsmanager secret:icy-morning-ci/notify-secret-AbCdEf)"
  "kmsKeyArn=$(arn kms key/00000000-0000-0000-0000-000000000000)"
  "nudgeQueueUrl=https://sqs.$region.amazonaws.com/$acct/icy-morning-ci-asset-events"
  "nudgeQueueArn=$(arn sqs icy-morning-ci-asset-events)"
  "functionDlqArn=$(arn sqs icy-morning-ci-function-dlq)"
  "mailUrl=ses://?region=$region&configuration_set=icy-morning-ci"
  "mailFrom=Icy Morning <notifications@example.com>"
  "sesIdentityArn=$(arn ses identity/example.com)"
  "sesConfigurationSet=icy-morning-ci"
  "sesConfigurationSetArn=$(arn ses configuration-set/icy-morning-ci)"
)
args=()
for p in "${params[@]}"; do args+=("--param=$p"); done

rm -rf .serverless
start=$(date +%s.%N)
env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=dummy-secret-for-offline-packaging \
  AWS_REGION=$region SLS_TELEMETRY_DISABLED=1 SLS_TRACKING_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
  SLS_DEPRECATION_DISABLE='*' SLS_INTERACTIVE_SETUP_DISABLE=1 CI=1 \
  node_modules/.bin/serverless package --stage ci "${args[@]}"
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "serverless package: %.1f s\n", e - s }'
ls -l .serverless/cloudformation-template-update-stack.json
