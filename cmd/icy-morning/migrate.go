package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/icy-morning/icy-morning/sqlstore"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "migrate up|down|status [flags]", stderr)
	// The action may come before the flags or after them.
	action := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	c, err := readConfig(modeMigrate, fs, args, getenv)
	if err != nil {
		return err
	}
	if action == "" && fs.NArg() == 1 {
		action = fs.Arg(0)
	} else if fs.NArg() != 0 || action == "" {
		fs.Usage()
		return errUsage
	}
	store, err := sqlstore.OpenLocation(ctx, c.database, sqlstore.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer store.Close()
	switch action {
	case "up":
		n, err := store.MigrateUp(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return nil
	case "down":
		if err := store.MigrateDown(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "rolled back 1 migration")
		return nil
	case "status":
		st, err := store.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATE\tSOURCE")
		for _, m := range st {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, state, m.Source)
		}
		return tw.Flush()
	}
	fs.Usage()
	return errUsage
}
