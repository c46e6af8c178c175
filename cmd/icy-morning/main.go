// Command icy-morning serves the Icy Morning API and manages its database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cmd, _ := command(os.Args[1:], os.Getenv)
	tuneRuntime(cmd, os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// --help printed the usage; asking for it is not a failure.
	case err != nil:
		fmt.Fprintln(os.Stderr, "icy-morning:", err)
		os.Exit(exitCode(err))
	}
}
