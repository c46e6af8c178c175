package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestRegenerationMatchesCommittedSchema regenerates the schema from the npm
// package when it is in the local cache (regen-schema.sh puts it there) and
// compares it with the committed file, so a hand edit of the JSON or a
// generator change without regeneration is caught. CI has no copy of the
// package, so there the test is skipped.
func TestRegenerationMatchesCommittedSchema(t *testing.T) {
	pkg := os.Getenv("ICY_CDKTF_AWS_DIR")
	if pkg == "" {
		home, _ := os.UserHomeDir()
		pkg = filepath.Join(home, ".cache", "icy-morning", "npm", "cdktf-provider-aws-21.22.1", "package")
	}
	if _, err := os.Stat(filepath.Join(pkg, ".jsii")); err != nil {
		t.Skipf("npm package not cached at %s (run infrastructure/testing/regen-schema.sh once)", pkg)
	}
	out := filepath.Join(t.TempDir(), "aws.json")
	if err := run(pkg, filepath.Join("..", "..", "..", ".."), filepath.Join("..", "..", "schema", "types.txt"), "",
		filepath.Join("..", "..", "schema", "overlay.json"), out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "schema", "aws-6.x.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("schema/aws-6.x.json differs from a fresh extraction: run infrastructure/testing/regen-schema.sh and commit it")
	}
}

// TestUnknownTypeFails: a type the package does not describe is an error
// that names it, not a silently smaller schema.
func TestUnknownTypeFails(t *testing.T) {
	pkg := os.Getenv("ICY_CDKTF_AWS_DIR")
	if pkg == "" {
		home, _ := os.UserHomeDir()
		pkg = filepath.Join(home, ".cache", "icy-morning", "npm", "cdktf-provider-aws-21.22.1", "package")
	}
	if _, err := os.Stat(filepath.Join(pkg, ".jsii")); err != nil {
		t.Skipf("npm package not cached at %s", pkg)
	}
	err := run(pkg, "", "", "resource.aws_lambda_functon,ephemeral.aws_secretsmanager_secret_version", "", filepath.Join(t.TempDir(), "x.json"))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("resource.aws_lambda_functon")) ||
		!bytes.Contains([]byte(err.Error()), []byte("ephemeral.aws_secretsmanager_secret_version")) {
		t.Fatalf("err = %v, want one naming both unknown types", err)
	}
}
