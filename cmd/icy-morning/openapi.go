package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/icy-morning/icy-morning/httpapi"
)

func runOpenAPI(args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: icy-morning openapi\n\nPrints the OpenAPI 3.1 document as JSON.") }
	if err := parse(fs, args); err != nil {
		return err
	}
	// The document depends on the routes only, not on a database.
	doc := httpapi.NewServer(httpapi.Config{Version: version()}).OpenAPI()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
