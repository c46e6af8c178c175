package main

import (
	"bytes"
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
	downgrade := fs.Bool("downgrade", false, "print the OpenAPI 3.0.3 form of the document (as /openapi-3.0.json serves it), for tools that read no 3.1")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: icy-morning openapi [--downgrade]\n\nPrints the OpenAPI 3.1 document as JSON.")
		fs.PrintDefaults()
	}
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
	if *downgrade {
		b, err := doc.Downgrade()
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return err
		}
		out.WriteByte('\n')
		_, err = out.WriteTo(stdout)
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
