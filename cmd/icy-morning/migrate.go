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
	store, err := openForMigration(ctx, &c, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	switch action {
	case "up":
		n, err := migrateUp(ctx, store, sqlstore.AppRoleAccess{Password: c.appPassword, IAMAuth: c.appIAMAuth})
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

// openForMigration opens the store the way every migration does, from the
// command line or the migrate function: two connections (goose's and its
// lock's), trying for DB_WAIT to reach a database that may still be coming
// up (a new instance, or a new RDS Proxy whose target is not available
// yet).
func openForMigration(ctx context.Context, c *config, o sqlstore.Options) (*sqlstore.Store, error) {
	o.MaxConns = 2
	o.ConnectWait = c.dbWait
	store, err := sqlstore.OpenLocation(ctx, c.database, o)
	if err != nil {
		if c.dbWait > 0 {
			return nil, fmt.Errorf("the database did not answer within DB_WAIT=%s: %w", c.dbWait, err)
		}
		return nil, err
	}
	return store, nil
}

// migrateUp applies the pending migrations, then gives the app role the
// way in that access asks for. The role's sign-in is set on every run, so
// a changed password (a rotated secret) takes effect with the next
// migration run, even one that applies nothing.
func migrateUp(ctx context.Context, store *sqlstore.Store, access sqlstore.AppRoleAccess) (int, error) {
	n, err := store.MigrateUp(ctx)
	if err != nil {
		return n, err
	}
	if err := store.ProvisionAppRole(ctx, access); err != nil {
		return n, err
	}
	return n, nil
}
