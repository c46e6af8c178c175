# Icy Morning. `make serve` runs it locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
BIN := bin/icy-morning
STATICCHECK_VERSION := v0.8.2
ACTIONLINT_VERSION := v1.7.12
# The Lambda Runtime Interface Emulator publishes no tagged module version;
# this pseudo-version is the newest the module proxy serves.
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
GOBIN := $(shell $(GO) env GOPATH)/bin
LDFLAGS := -s -w -X main.buildVersion=$(shell git describe --always --dirty 2>/dev/null || echo dev)

LAMBDA_ARCH ?= arm64
LAMBDA_ZIP := dist/icy-morning-lambda.zip

.PHONY: init build lambda serve test e2e client-ts lint bench bench-mail bench-pocketbase bench-jwt bench-cache clean image image-check compose-config serverless-package release release-check

## init: download modules, install the lint tool, the Lambda Runtime Interface Emulator, under .tools/ the mail test servers, and under openapi/ Redocly and the TypeScript client's packages
init:
	$(GO) mod download
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	$(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	GOBIN=$(CURDIR)/.tools/bin $(GO) install github.com/axllent/mailpit@v1.33.1
	mkdir -p .tools && cp mail/testdata/aws-ses-v2-local/package.json mail/testdata/aws-ses-v2-local/package-lock.json .tools/
	npm ci --prefix .tools --no-audit --no-fund
	npm ci --prefix openapi --no-audit --no-fund

## build: the icy-morning binary, static (no cgo: SQLite is pure Go) and without local paths
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/icy-morning

## lambda: dist/icy-morning-lambda.zip, one static bootstrap for provided.al2023 (LAMBDA_ARCH=arm64|amd64)
lambda:
	@case "$(LAMBDA_ARCH)" in arm64|amd64) ;; *) echo "LAMBDA_ARCH must be arm64 or amd64" >&2; exit 2;; esac
	rm -rf dist/lambda-$(LAMBDA_ARCH) $(LAMBDA_ZIP)
	mkdir -p dist/lambda-$(LAMBDA_ARCH)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' \
	  -o dist/lambda-$(LAMBDA_ARCH)/bootstrap ./cmd/icy-morning
	$(GO) run ./cmd/zipbootstrap -o $(LAMBDA_ZIP) dist/lambda-$(LAMBDA_ARCH)/bootstrap
	@z=$$(stat -c %s $(LAMBDA_ZIP)); b=$$(stat -c %s dist/lambda-$(LAMBDA_ARCH)/bootstrap); \
	  awk -v z=$$z -v b=$$b 'BEGIN { printf "$(LAMBDA_ZIP): %d bytes (%.1f MB); $(LAMBDA_ARCH) bootstrap %.1f MB unpacked\n", z, z/1e6, b/1e6 }'
	@[ $$(stat -c %s $(LAMBDA_ZIP)) -lt 15000000 ] || { echo "the zip is over the 15 MB budget" >&2; exit 1; }

## image: the container image (Dockerfile) with podman or buildah (podman installed from Debian if neither is there), tagged icy-morning:VERSION and :latest; prints its size
image:
	bash scripts/image.sh

## image-check: proves the image without running a container: its config (non-root, HEALTHCHECK, labels, volume), its files, and its entrypoint run from the exported filesystem, as a server and as a Lambda function
image-check: image
	bash scripts/image-check.sh

## compose-config: validates compose.yaml with Debian's docker-compose (installed if missing; config needs no daemon)
compose-config:
	bash scripts/compose-check.sh

## serverless-package: packages deploy/serverless/serverless.yml offline (pinned serverless@3, dummy credentials) into a CloudFormation template that cmd/icy-morning's tests check
serverless-package: lambda
	bash scripts/serverless-package.sh

## release: dist/release: icy-morning for linux and darwin (amd64, arm64) and windows (amd64, .exe), the arm64 and amd64 Lambda zips, a CycloneDX SBOM each and SHA256SUMS, with version and commit linked in
release:
	bash scripts/release.sh

## release-check: builds the release twice (and once from a copy of the tree elsewhere) and fails unless the SHA256SUMS are equal
release-check:
	bash scripts/release-check.sh

## serve: build, migrate and serve on http://127.0.0.1:8000 (docs at /docs) on the embedded SQLite default
serve: build
	LOG_FORMAT=$${LOG_FORMAT:-text} ./$(BIN) serve

## test: every test; PostgreSQL tests run when TEST_DATABASE_URL is set (.ci/run sets it)
test:
	@[ -n "$$TEST_DATABASE_URL" ] || echo "WARNING: TEST_DATABASE_URL is unset: the PostgreSQL tests will be SKIPPED (see README)"
	$(GO) test -race -count=1 ./...
	@[ -n "$$TEST_DATABASE_URL" ] || echo "WARNING: the PostgreSQL tests were SKIPPED: set TEST_DATABASE_URL to run them"

## e2e: a real browser opens /docs, authorizes (Basic; and logging in through an OpenID Connect provider with PKCE) and creates an asset; and signs up on /subscribe, confirms from the mail in Mailpit, gets a notification and unsubscribes (installs Chromium if missing)
e2e: build
	SKIP_BUILD=1 bash e2e/run.sh

## client-ts: the TypeScript client: types generated from the document by openapi-typescript, type-checked by tsc, and a Node test driving the binary through openapi-fetch (needs make init)
client-ts: build
	@[ -x openapi/node_modules/.bin/tsc ] || { echo "openapi/node_modules is missing: run make init" >&2; exit 1; }
	mkdir -p openapi/build openapi/generated
	./$(BIN) openapi > openapi/build/openapi.json
	cd openapi && node_modules/.bin/openapi-typescript build/openapi.json -o generated/schema.d.ts
	cd openapi && node_modules/.bin/tsc -p tsconfig.json
	cd openapi && ICY_MORNING_BIN=$(CURDIR)/$(BIN) node --test build/client.test.js

## lint: gofmt, go vet, staticcheck and actionlint (the GitHub workflows); Redocly's recommended rules on the OpenAPI document (any error or warning fails) and the generated Go client up to date (openapi/lint.sh)
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$(GOBIN):$$PATH" staticcheck ./...
	@test -x $(GOBIN)/actionlint || $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	$(GOBIN)/actionlint
	bash openapi/lint.sh

## bench: the load benchmark on loopback (with PocketBase beside us on SQLite, built under .tools/ when missing: BENCH_FLAGS=-pocketbase=false skips it; and POST with a bearer JWT beside Basic: -jwt=false skips it; and GET by id with If-None-Match and through nginx beside the full GET: -cache=false skips it), the Lambda benchmark (with AUTH_TYPE=basic,jwt beside basic) under the emulator, then the mail fan-out benchmark (needs wrk, a PostgreSQL, aws-lambda-rie and Mailpit; see docs/performance.md)
bench: lambda
	$(GO) run ./bench/loadbench -duration 10s $(BENCH_FLAGS)
	$(GO) run ./bench/lambdabench -zip $(LAMBDA_ZIP) $(LAMBDA_BENCH_FLAGS)
	$(GO) run ./bench/mailbench $(MAIL_BENCH_FLAGS)

## bench-pocketbase: only icy-morning beside PocketBase v0.40.4, both on SQLite, in interleaved rounds (needs wrk; builds PocketBase under .tools/ when missing)
bench-pocketbase:
	$(GO) run ./bench/loadbench -duration 10s -pocketbase-only $(BENCH_FLAGS)

## bench-jwt: only POST with a bearer JWT beside POST with Basic, on SQLite, in ABBA rounds, against a loopback OIDC issuer that counts its JWKS requests (needs wrk)
bench-jwt:
	$(GO) run ./bench/loadbench -duration 10s -jwt-only $(BENCH_FLAGS)

## bench-cache: only GET by id in full, with a matching If-None-Match (304) and through nginx with a warm cache, side by side on SQLite in rotating rounds (needs wrk and nginx)
bench-cache:
	$(GO) run ./bench/loadbench -duration 10s -cache-only $(BENCH_FLAGS)

## bench-mail: only the mail fan-out benchmark: 10,000 mails through Mailpit by the worker and by a plain go-mail loop, SQLite and PostgreSQL
bench-mail:
	$(GO) run ./bench/mailbench $(MAIL_BENCH_FLAGS)

## clean: remove build output and the local database
clean:
	rm -rf bin dist icy-morning.db icy-morning.db-wal icy-morning.db-shm icy-morning.db.migrate-lock
