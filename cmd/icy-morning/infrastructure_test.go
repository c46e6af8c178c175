package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// These tests hold the Terraform in infrastructure/ to what this binary
// and `make lambda` actually are: the function's environment is evaluated
// from the HCL for each combination of the variables that shape it, and
// the lambda command's own configuration reader must accept exactly that
// environment.

// infraDir is the Terraform to check; ICY_INFRA_DIR points the test at
// another copy.
var infraDir = cmp.Or(os.Getenv("ICY_INFRA_DIR"), "../../infrastructure")

// terraform is the parsed configuration.
type terraform struct {
	files     map[string][]byte
	locals    map[string]hcl.Expression
	variables map[string]*hclsyntax.Block
	resources map[string]*hclsyntax.Block // "type.name"
}

func parseTerraform(t *testing.T, dir string) terraform {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Terraform files in %s (%v)", dir, err)
	}
	tf := terraform{files: map[string][]byte{}, locals: map[string]hcl.Expression{}, variables: map[string]*hclsyntax.Block{}, resources: map[string]*hclsyntax.Block{}}
	p := hclparse.NewParser()
	for _, name := range files {
		f, diags := p.ParseHCLFile(name)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags)
		}
		tf.files[name] = f.Bytes
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "locals":
				for n, a := range b.Body.Attributes {
					tf.locals[n] = a.Expr
				}
			case "variable":
				tf.variables[b.Labels[0]] = b
			case "resource":
				tf.resources[b.Labels[0]+"."+b.Labels[1]] = b
			}
		}
	}
	return tf
}

// defaults returns every variable's default value (null when it has none).
func (tf terraform) defaults(t *testing.T) map[string]cty.Value {
	t.Helper()
	out := map[string]cty.Value{}
	for name, b := range tf.variables {
		out[name] = cty.NullVal(cty.DynamicPseudoType)
		if a, ok := b.Body.Attributes["default"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("variable %s default: %v", name, diags)
			}
			out[name] = v
		}
	}
	return out
}

// evalContext gives an expression the variables in vars; every other
// reference (locals, resources, data sources) is an unknown string, as at
// plan time before anything exists.
func evalContext(expr hcl.Expression, vars map[string]cty.Value) *hcl.EvalContext {
	type tree map[string]any
	roots := tree{}
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		if root == "var" {
			continue
		}
		node := roots
		for i, step := range tr {
			var name string
			switch s := step.(type) {
			case hcl.TraverseRoot:
				name = s.Name
			case hcl.TraverseAttr:
				name = s.Name
			default:
				name = ""
			}
			if name == "" || i == len(tr)-1 {
				if name != "" {
					if _, ok := node[name]; !ok {
						node[name] = nil
					}
				}
				break
			}
			next, ok := node[name].(tree)
			if !ok {
				next = tree{}
				node[name] = next
			}
			node = next
		}
	}
	var build func(n tree) cty.Value
	build = func(n tree) cty.Value {
		attrs := map[string]cty.Value{}
		for k, v := range n {
			if sub, ok := v.(tree); ok {
				attrs[k] = build(sub)
			} else {
				attrs[k] = cty.UnknownVal(cty.String)
			}
		}
		return cty.ObjectVal(attrs)
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}, Functions: map[string]function.Function{
		"merge": stdlib.MergeFunc,
		"tostring": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowUnknown: true}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return convert.Convert(args[0], cty.String)
			},
		}),
	}}
	for k, v := range roots {
		ctx.Variables[k] = build(v.(tree))
	}
	return ctx
}

// placeholder stands in for a value Terraform knows only after apply.
func placeholder(name string) string {
	switch {
	case name == "DATABASE_URL":
		return "postgres://icy@db.example.internal:5432/icy?sslmode=require"
	case strings.HasSuffix(name, "_ARN"):
		return "arn:aws:secretsmanager:eu-west-1:123456789012:secret:example"
	}
	return "unknown"
}

// source is an expression's text as written.
func (tf terraform) source(expr hcl.Expression) string {
	r := expr.Range()
	return string(tf.files[r.Filename][r.Start.Byte:r.End.Byte])
}

// checkFunctionEnvironment evaluates the function's environment for each
// combination of the variables that shape it and returns what is wrong.
func checkFunctionEnvironment(t *testing.T, tf terraform) []string {
	t.Helper()
	expr, ok := tf.locals["function_environment"]
	if !ok {
		return []string{"infrastructure has no local function_environment (the function's environment variables)"}
	}
	known := map[string]bool{}
	for _, k := range envNames(modeLambda) {
		known[k] = true
	}
	// Terraform must never hand the function a credential in plain text.
	forbidden := map[string]bool{"BASIC_AUTH_USERNAME": true, "BASIC_AUTH_PASSWORD": true, "SQLALCHEMY_DATABASE_CONNECTION_URI": true}

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// The URL is only known after apply; its text must ask for a verified
	// server (the binary carries the RDS authorities for it).
	if u, ok := tf.locals["database_url"]; !ok || !strings.Contains(tf.source(u), "sslmode=verify-full") {
		bad("local.database_url does not ask for sslmode=verify-full")
	}
	for _, sc := range []struct {
		name       string
		iam, proxy bool
	}{{"secret", false, false}, {"secret via RDS Proxy", false, true}, {"IAM auth", true, false}, {"IAM auth via RDS Proxy", true, true}} {
		vars := tf.defaults(t)
		for name, v := range map[string]bool{"database_iam_auth": sc.iam, "enable_rds_proxy": sc.proxy} {
			if _, ok := vars[name]; !ok {
				t.Fatalf("variable %s is gone: update this test", name)
			}
			vars[name] = cty.BoolVal(v)
		}
		val, diags := expr.Value(evalContext(expr, vars))
		if diags.HasErrors() {
			t.Fatalf("%s: evaluating function_environment: %v", sc.name, diags)
		}
		env := map[string]string{}
		for k, v := range val.AsValueMap() {
			switch {
			case !known[k]:
				bad("%s: Terraform sets %s, which the binary does not read", sc.name, k)
			case forbidden[k]:
				bad("%s: Terraform sets %s, a credential in plain text", sc.name, k)
			}
			if v.IsKnown() && !v.IsNull() {
				env[k] = v.AsString()
			} else {
				env[k] = placeholder(k)
			}
		}
		c, err := readConfig(modeLambda, nil, nil, func(k string) string { return env[k] })
		if err != nil {
			bad("%s: the binary refuses the environment Terraform gives it: %v", sc.name, err)
			continue
		}
		if c.dbIAMAuth != sc.iam || (c.dbSecretARN != "") == sc.iam {
			bad("%s: credentials: iamAuth=%v secretARN=%q", sc.name, c.dbIAMAuth, c.dbSecretARN)
		}
		if sc.proxy && c.queryExecMode != "exec" && c.queryExecMode != "describe_exec" {
			bad("%s: behind RDS Proxy DB_QUERY_EXEC_MODE = %q: prepared statements would pin sessions", sc.name, c.queryExecMode)
		}
	}
	return problems
}

// checkMakeLambda compares the function resource with what the Makefile's
// lambda target builds.
func checkMakeLambda(t *testing.T, tf terraform, makefile []byte) []string {
	t.Helper()
	fn, ok := tf.resources["aws_lambda_function.api"]
	if !ok {
		return []string{"no aws_lambda_function.api"}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	vars := tf.defaults(t)
	attr := func(name string) cty.Value {
		a, ok := fn.Body.Attributes[name]
		if !ok {
			bad("aws_lambda_function.api has no %s", name)
			return cty.StringVal("")
		}
		v, diags := a.Expr.Value(evalContext(a.Expr, vars))
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags)
		}
		return v
	}
	if got := attr("handler").AsString(); got != "bootstrap" {
		bad("handler = %q, want bootstrap (the only file in the zip)", got)
	}
	if got := attr("runtime").AsString(); got != "provided.al2023" {
		bad("runtime = %q, want provided.al2023", got)
	}
	archMatch := regexp.MustCompile(`(?m)^LAMBDA_ARCH \?= (\S+)$`).FindSubmatch(makefile)
	zipMatch := regexp.MustCompile(`(?m)^LAMBDA_ZIP := (\S+)$`).FindSubmatch(makefile)
	if archMatch == nil || zipMatch == nil {
		return append(problems, "the Makefile lacks LAMBDA_ARCH ?= or LAMBDA_ZIP :=")
	}
	lambdaArch := map[string]string{"arm64": "arm64", "amd64": "x86_64"}[string(archMatch[1])]
	var archs []string
	if v := attr("architectures"); v.CanIterateElements() {
		for _, e := range v.AsValueSlice() {
			archs = append(archs, e.AsString())
		}
	}
	if !slices.Equal(archs, []string{lambdaArch}) {
		bad("architectures = %v, but make lambda builds %s by default", archs, archMatch[1])
	}
	if got, want := filepath.Clean(filepath.Join("infrastructure", attr("filename").AsString())), string(zipMatch[1]); got != want {
		bad("filename resolves to %s, but make lambda writes %s", got, want)
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "-tags lambda.norpc", "-o dist/lambda-$(LAMBDA_ARCH)/bootstrap"} {
		if !bytes.Contains(makefile, []byte(want)) {
			bad("the lambda target no longer has %q", want)
		}
	}
	return problems
}

func readMakefile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInfrastructureMatchesTheBinary(t *testing.T) {
	tf := parseTerraform(t, infraDir)
	for _, p := range checkFunctionEnvironment(t, tf) {
		t.Error(p)
	}
	for _, p := range checkMakeLambda(t, tf, readMakefile(t)) {
		t.Error(p)
	}
}

// The checks above fire on the mistakes they exist for: each case edits a
// copy of the Terraform and expects its problem to be reported.
func TestInfrastructureChecksFire(t *testing.T) {
	tests := []struct {
		name, file, old, new, want string
	}{
		{"an unverified database server", "database.tf", `sslmode=verify-full`, `sslmode=require`, "sslmode=verify-full"},
		{"a variable the binary does not read", "function.tf", `LOG_FORMAT            = "json"`, `LOG_FORMAT = "json"
      QUEUE_URL = "x"`, "sets QUEUE_URL, which the binary does not read"},
		{"a plain-text password", "function.tf", `LOG_FORMAT            = "json"`, `LOG_FORMAT = "json"
      BASIC_AUTH_PASSWORD = "hunter2"`, "BASIC_AUTH_PASSWORD, a credential in plain text"},
		{"a required variable missing", "function.tf", `BASIC_AUTH_SECRET_ARN = aws_secretsmanager_secret.basic_auth.arn`, ``, "no API account"},
		{"prepared statements through the proxy", "function.tf", `DB_QUERY_EXEC_MODE = "exec"`, `DB_QUERY_EXEC_MODE = "cache_statement"`, "would pin sessions"},
		{"a wrong handler", "function.tf", `handler          = "bootstrap"`, `handler = "main"`, `handler = "main"`},
		{"a wrong runtime", "function.tf", `runtime          = "provided.al2023"`, `runtime = "provided.al2"`, `runtime = "provided.al2"`},
		{"a wrong architecture", "function.tf", `architectures    = [var.lambda_architecture]`, `architectures = ["x86_64"]`, "architectures = [x86_64]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join(infraDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(orig, []byte(tt.old)) {
				t.Fatalf("%s no longer contains %q: update this case", tt.file, tt.old)
			}
			dir := t.TempDir()
			files, _ := filepath.Glob(filepath.Join(infraDir, "*.tf"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if filepath.Base(f) == tt.file {
					b = bytes.Replace(b, []byte(tt.old), []byte(tt.new), 1)
				}
				if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tf := parseTerraform(t, dir)
			problems := append(checkFunctionEnvironment(t, tf), checkMakeLambda(t, tf, readMakefile(t))...)
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Fatalf("no problem mentions %q; got %q", tt.want, problems)
		})
	}
}
