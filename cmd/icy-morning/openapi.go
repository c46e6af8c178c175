package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
)

func runOpenAPI(args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: icy-morning openapi\n\nPrints the OpenAPI 3.1 document as JSON.") }
	if err := parse(fs, args); err != nil {
		return err
	}
	// The document depends on the routes and on the authenticator's scheme
	// only, not on a database or on real credentials: this account, with a
	// password nobody sees, never serves a request.
	authn, err := auth.NewBasic("openapi", auth.GeneratePassword())
	if err != nil {
		return err
	}
	doc := httpapi.NewServer(httpapi.Config{Auth: authn, Version: version()}).OpenAPI()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
