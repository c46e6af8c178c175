// Command terraform-provider-aws is a schema-only stand-in for the
// hashicorp/aws provider, for `terraform validate` and `terraform test` with
// mock_provider "aws" in CI, where the real provider cannot be downloaded.
//
// It serves the schema in schema/aws-6.x.json (extracted from the cdktf
// prebuilt bindings of the real provider; see ../README.md) and refuses
// every operation that would need AWS: configuring the provider, planning,
// reading, applying or importing a resource, and reading a data source.
//
// It speaks plugin protocol 5 through terraform-plugin-go rather than
// terraform-plugin-framework: the real provider serves protocol 5, and the
// raw protocol lets the schema be served exactly as recorded (nesting modes,
// MinItems/MaxItems of blocks, computed-only object attributes,
// attributes-as-blocks such as aws_security_group.ingress) without
// generating framework Go code for every attribute.
package main

import (
	_ "embed"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tfprotov5/tf5server"

	"github.com/icy-morning/icy-morning/infrastructure/testing/provider/internal/schema"
)

//go:embed schema/aws-6.x.json
var schemaJSON []byte

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-version" || os.Args[1] == "--version") {
		f, err := schema.Parse(schemaJSON)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s %s (schema-only stand-in, from %s@%s)\n", f.Source.Provider, f.Source.ProviderVersion, f.Source.Package, f.Source.PackageVersion)
		return
	}
	srv, err := newServer(schemaJSON)
	if err != nil {
		fmt.Fprintln(os.Stderr, "terraform-provider-aws (stand-in):", err)
		os.Exit(1)
	}
	if err := tf5server.Serve("hashicorp/aws", func() tfprotov5.ProviderServer { return srv }); err != nil {
		fmt.Fprintln(os.Stderr, "terraform-provider-aws (stand-in):", err)
		os.Exit(1)
	}
}
