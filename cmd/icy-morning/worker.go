package main

import (
	"context"
	"fmt"
	"io"
)

// runWorker sends notification mails until SIGINT/SIGTERM: the dispatcher
// of serve without the API. Workers and servers may run side by side on
// one database; claims keep them from sending a delivery twice.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	c, err := readConfig(modeWorker, newFlags("worker", "worker [flags]", stderr), args, getenv)
	if err != nil {
		return err
	}
	logger := newLogger(&c, stderr)
	store, notes, closeBackend, err := openBackend(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer closeBackend()
	logger.Info("worker started", "database", string(store.Dialect()), "version", version(),
		"mail", fmt.Sprint(notes.sender), "connections", c.mailConns)
	notes.run(ctx)()
	logger.Info("worker stopped")
	return nil
}
