package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/icy-morning/icy-morning/cdn"
	"github.com/icy-morning/icy-morning/mail"
	"github.com/icy-morning/icy-morning/notify"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// notifications is the notification service of a process: the mail
// sender, the sign-up pages' Notifier and the dispatcher; and the other
// consumer of the outbox, the CDN's purger (nil without a CDN).
type notifications struct {
	sender     mail.Sender
	service    *notify.Service
	dispatcher *notify.Dispatcher
	purger     *cdn.Purger
}

// openBackend opens what serve and worker both stand on: the store
// (migrated unless told not to) and the notifications over it. close
// releases both, the sender first.
func openBackend(ctx context.Context, c *config, logger *slog.Logger) (store *sqlstore.Store, notes *notifications, close func(), err error) {
	store, err = openStore(ctx, c, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	notes, err = openNotifications(ctx, c, store, c.notifySecret, logger)
	if err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	return store, notes, func() {
		notes.sender.Close()
		store.Close()
	}, nil
}

// secretName is the name the generated link-signing key is kept under in
// the database (secrets table) when NOTIFY_SECRET is not set.
const secretName = "notify"

// openNotifications builds the notification service from the settings.
// secret is the link-signing key when it comes from outside (NOTIFY_SECRET
// or its Secrets Manager secret); empty, the key is generated once and
// kept in the database, so that every process on it signs alike and links
// outlive restarts.
func openNotifications(ctx context.Context, c *config, store *sqlstore.Store, secret string, logger *slog.Logger) (*notifications, error) {
	key := []byte(secret)
	if secret == "" {
		var err error
		if key, err = store.Secret(ctx, secretName, 32); err != nil {
			return nil, err
		}
	}
	composer, err := notify.NewComposer(c.mailFrom, c.publicBaseURL, key)
	if err != nil {
		return nil, err
	}
	purger, err := openPurger(ctx, c, store, logger)
	if err != nil {
		return nil, err
	}
	sender, err := mail.Open(ctx, c.mailURL, mail.Options{Logger: logger, MaxPerSecond: c.mailMaxPerSec})
	if err != nil {
		return nil, fmt.Errorf("MAIL_URL: %w", err)
	}
	return &notifications{
		purger:  purger,
		sender:  sender,
		service: notify.NewService(composer, sender, nil),
		dispatcher: notify.NewDispatcher(store, composer, sender, logger, notify.DispatchOptions{
			Connections: c.mailConns, MaxPerSecond: c.mailMaxPerSec, ClaimTimeout: c.claimTimeout,
		}),
	}, nil
}

// run runs the dispatcher (and the purger) until ctx ends, and returns a
// function that waits until it has, and has recorded its batch in flight
// (at most shutdownGrace after ctx ends).
func (n *notifications) run(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		if n.purger != nil {
			wg.Go(func() { n.purger.Run(ctx) })
		}
		_ = n.dispatcher.Run(ctx)
		wg.Wait()
	}()
	return func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		select {
		case <-done:
		case <-time.After(shutdownGrace):
		}
	}
}
