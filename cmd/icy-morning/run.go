package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// errUsage marks a command line that could not be understood; its message
// has already been printed with the usage.
var errUsage = errors.New("usage error")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `Usage: icy-morning [command] [flags]

Commands:
  serve             serve the API (the default)
  worker            send notification mails only (any number may run
                    beside serve --dispatcher=false on one PostgreSQL)
  lambda            serve AWS Lambda invocations (the default when
                    AWS_LAMBDA_RUNTIME_API is set, as it is in Lambda)
  migrate up        apply pending database migrations
  migrate down      roll back the latest migration
  migrate status    list migrations and whether each is applied
  openapi           print the OpenAPI document as JSON
  healthcheck       exit 0 if the local server's /healthz answers 200
                    (the container image's HEALTHCHECK)
  version           print the version

Run 'icy-morning COMMAND --help' for a command's flags. Flags override the
environment variables named in their help.
`

// run is the whole program; main only calls it, and tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, args := command(args, getenv)
	switch cmd {
	case "serve":
		return runServe(ctx, args, getenv, stdout, stderr)
	case "lambda":
		return runLambda(ctx, args, getenv, stdout, stderr)
	case "worker":
		return runWorker(ctx, args, getenv, stderr)
	case "migrate":
		return runMigrate(ctx, args, getenv, stdout, stderr)
	case "openapi":
		return runOpenAPI(args, getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "icy-morning", version(), "commit", commit())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// command tells which command args ask for, and the arguments left for it.
func command(args []string, getenv func(string) string) (string, []string) {
	cmd := "serve"
	if getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// The Lambda runtime starts the bootstrap without arguments.
		cmd = "lambda"
	}
	if len(args) > 0 && (len(args[0]) == 0 || args[0][0] != '-') {
		cmd, args = args[0], args[1:]
	}
	return cmd, args
}

// buildVersion and buildCommit are set at link time (-ldflags "-X
// main.buildVersion=... -X main.buildCommit=...").
var buildVersion, buildCommit = "", ""

// commit is the source revision the binary was built from: the one the
// release build names, else the one Go recorded, else "unknown".
func commit() string {
	if buildCommit != "" {
		return buildCommit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}
