package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// These tests hold deploy/serverless/serverless.yml, as `serverless
// package` renders it (make serverless-package), to what this binary and
// `make lambda` are, and to the Terraform it is the alternative to: the
// same zip, runtime, architecture and handler, environments the binary
// accepts with the names Terraform sets, each function its own role with
// Terraform's statements, and no secret in the template.

// serverlessTemplate is where `serverless package` writes the template.
const serverlessTemplate = "../../deploy/serverless/.serverless/cloudformation-template-update-stack.json"

// serverlessFunctions maps each function's logical id to the Terraform
// local holding the environment it must match, and its part.
var serverlessFunctions = []struct {
	logicalID, terraformLocal, role string
	migrate                         bool
}{
	{"ApiLambdaFunction", "function_environment", "ApiRole", false},
	{"WorkerLambdaFunction", "worker_environment", "WorkerRole", false},
	{"MigrateLambdaFunction", "migrate_environment", "MigrateRole", true},
}

// loadServerlessTemplate reads the packaged template: skipped when it was
// not built, failing instead with ICY_REQUIRE_SERVERLESS=1 (as in .ci/run).
func loadServerlessTemplate(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(serverlessTemplate)
	if os.IsNotExist(err) {
		if os.Getenv("ICY_REQUIRE_SERVERLESS") == "1" {
			t.Fatalf("%s is missing: run make serverless-package", serverlessTemplate)
		}
		t.Skipf("SKIPPED: %s is missing: run make serverless-package (ICY_REQUIRE_SERVERLESS=1 fails instead)", serverlessTemplate)
	}
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatalf("%s: %v", serverlessTemplate, err)
	}
	return tmpl
}

// terraformEnvNames evaluates a Terraform environment local in the
// scenario the Serverless file mirrors (the database secret, RDS Proxy:
// DB_QUERY_EXEC_MODE is set) and returns its names.
func terraformEnvNames(t *testing.T, tf terraform, local string) []string {
	t.Helper()
	vars := tf.defaults(t)
	vars["enable_rds_proxy"] = cty.True
	vars["ses_sender_address"] = cty.StringVal("notifications@example.com")
	v, diags := tf.eval(tf.locals[local], vars)
	if diags.HasErrors() || !v.CanIterateElements() {
		t.Fatalf("local.%s: %v", local, diags)
	}
	var names []string
	for k := range v.AsValueMap() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// checkServerlessTemplate returns what is wrong with the template.
func checkServerlessTemplate(t *testing.T, tmpl map[string]any, tf terraform, makefile []byte) []string {
	t.Helper()
	var problems []string
	resources, _ := tmpl["Resources"].(map[string]any)
	known := map[string]bool{}
	for _, k := range envNames(modeLambda) {
		known[k] = true
	}
	forbidden := []string{"BASIC_AUTH_USERNAME", "BASIC_AUTH_PASSWORD", "NOTIFY_SECRET", "APP_DATABASE_PASSWORD", "SQLALCHEMY_DATABASE_CONNECTION_URI"}
	zip := filepath.Base(strings.TrimSpace(strings.TrimPrefix(string(firstLine(makefile, "LAMBDA_ZIP := ")), "LAMBDA_ZIP := ")))

	var functions []string
	for id, r := range resources {
		if res, _ := r.(map[string]any); res["Type"] == "AWS::Lambda::Function" {
			functions = append(functions, id)
		}
	}
	sort.Strings(functions)
	var want []string
	for _, f := range serverlessFunctions {
		want = append(want, f.logicalID)
	}
	sort.Strings(want)
	if !slices.Equal(functions, want) {
		problems = append(problems, fmt.Sprintf("functions %v, want %v", functions, want))
	}
	for _, f := range serverlessFunctions {
		bad := func(format string, args ...any) {
			problems = append(problems, f.logicalID+": "+fmt.Sprintf(format, args...))
		}
		res, _ := resources[f.logicalID].(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		if props == nil {
			bad("missing")
			continue
		}
		if got := props["Runtime"]; got != "provided.al2023" {
			bad("Runtime = %v, want provided.al2023", got)
		}
		if got := props["Handler"]; got != "bootstrap" {
			bad("Handler = %v, want bootstrap (the only file in the zip)", got)
		}
		if got := fmt.Sprint(props["Architectures"]); got != "[arm64]" {
			bad("Architectures = %s, want [arm64] (make lambda's default)", got)
		}
		code, _ := props["Code"].(map[string]any)
		if key, _ := code["S3Key"].(string); zip == "" || !strings.HasSuffix(key, "/"+zip) {
			bad("Code.S3Key = %v, not the zip make lambda writes (%s)", code["S3Key"], zip)
		}
		vpc, _ := props["VpcConfig"].(map[string]any)
		if vpc["SubnetIds"] == nil || vpc["SecurityGroupIds"] == nil {
			bad("no VpcConfig with subnets and a security group: the database is private")
		}
		if got := fmt.Sprint(props["Role"]); got != fmt.Sprint(map[string]any{"Fn::GetAtt": []any{f.role, "Arn"}}) {
			bad("Role = %s, want its own role %s", got, f.role)
		}
		if tc, _ := props["TracingConfig"].(map[string]any); tc["Mode"] != "Active" {
			bad("TracingConfig = %v, want Active as in Terraform", props["TracingConfig"])
		}

		envBlock, _ := props["Environment"].(map[string]any)
		vars, _ := envBlock["Variables"].(map[string]any)
		env := map[string]string{}
		var names []string
		for k, v := range vars {
			names = append(names, k)
			switch {
			case !known[k]:
				bad("sets %s, which the binary does not read", k)
			case slices.Contains(forbidden, k):
				bad("sets %s, a credential in plain text", k)
			}
			if s, ok := v.(string); ok {
				env[k] = s
			} else {
				env[k] = placeholder(k) // an intrinsic function, known at deploy
			}
			if strings.HasSuffix(k, "DATABASE_URL") {
				if u, err := url.Parse(env[k]); err != nil {
					bad("%s does not parse: %v", k, err)
				} else if _, has := u.User.Password(); has {
					bad("%s carries a password", k)
				}
			}
		}
		sort.Strings(names)
		if tfNames := terraformEnvNames(t, tf, f.terraformLocal); !slices.Equal(names, tfNames) {
			bad("environment names %v, but Terraform's local.%s sets %v", names, f.terraformLocal, tfNames)
		}
		c, err := readConfig(modeLambda, nil, nil, func(k string) string { return env[k] })
		if err != nil {
			bad("the binary refuses this environment: %v", err)
			continue
		}
		if (c.function == functionMigrate) != f.migrate {
			bad("ICY_MORNING_FUNCTION = %q", c.function)
		}

		// The role: Terraform's statements, by their Sid, and no others.
		role, _ := resources[f.role].(map[string]any)
		rp, _ := role["Properties"].(map[string]any)
		policies, _ := rp["Policies"].([]any)
		if len(policies) != 1 {
			bad("role %s has %d inline policies, want 1", f.role, len(policies))
			continue
		}
		doc, _ := policies[0].(map[string]any)["PolicyDocument"].(map[string]any)
		statements, _ := doc["Statement"].([]any)
		for _, s := range statements {
			st, _ := s.(map[string]any)
			sid, _ := st["Sid"].(string)
			if sid == "" || !tf.hasStatement(sid) {
				bad("role %s has statement %q, which Terraform's roles do not have", f.role, sid)
			}
			if st["Effect"] != "Allow" {
				bad("role %s statement %s: Effect %v", f.role, sid, st["Effect"])
			}
			if fmt.Sprint(st["Resource"]) == "*" && sid != "DescribeSubnetsForVpcAccess" {
				bad("role %s statement %s allows every resource", f.role, sid)
			}
		}
	}

	// No secret value anywhere: the dummy credentials serverless package
	// ran with, or a password in any string.
	raw, _ := json.Marshal(tmpl)
	for _, s := range []string{"dummy-secret-for-offline-packaging", "AKIAIOSFODNN7EXAMPLE", `"password"`, "PASSWORD"} {
		if strings.Contains(string(raw), s) {
			problems = append(problems, fmt.Sprintf("the template contains %q", s))
		}
	}
	return problems
}

// hasStatement tells whether a Terraform policy has a statement with sid.
func (tf terraform) hasStatement(sid string) bool {
	for _, b := range tf.files {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "Sid" && f[1] == "=" && f[2] == `"`+sid+`"` {
				return true
			}
		}
	}
	return false
}

func firstLine(b []byte, prefix string) []byte {
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			return []byte(line)
		}
	}
	return nil
}

func TestServerlessTemplate(t *testing.T) {
	tmpl := loadServerlessTemplate(t)
	for _, p := range checkServerlessTemplate(t, tmpl, parseTerraform(t, infraDir), readMakefile(t)) {
		t.Error(p)
	}
}

// The checks above fire: each case spoils a copy of the template.
func TestServerlessChecksFire(t *testing.T) {
	tf := parseTerraform(t, infraDir)
	makefile := readMakefile(t)
	props := func(tmpl map[string]any, id string) map[string]any {
		return tmpl["Resources"].(map[string]any)[id].(map[string]any)["Properties"].(map[string]any)
	}
	envOf := func(tmpl map[string]any, id string) map[string]any {
		return props(tmpl, id)["Environment"].(map[string]any)["Variables"].(map[string]any)
	}
	tests := []struct {
		name  string
		spoil func(tmpl map[string]any)
		want  string
	}{
		{"another runtime", func(m map[string]any) { props(m, "ApiLambdaFunction")["Runtime"] = "provided.al2" }, "Runtime = provided.al2"},
		{"another architecture", func(m map[string]any) { props(m, "WorkerLambdaFunction")["Architectures"] = []any{"x86_64"} }, "want [arm64]"},
		{"another handler", func(m map[string]any) { props(m, "MigrateLambdaFunction")["Handler"] = "main" }, "Handler = main"},
		{"another zip", func(m map[string]any) {
			props(m, "ApiLambdaFunction")["Code"] = map[string]any{"S3Key": "serverless/x/other.zip"}
		}, "not the zip make lambda writes"},
		{"a variable the binary does not read", func(m map[string]any) { envOf(m, "ApiLambdaFunction")["QUEUE_URL"] = "x" }, "sets QUEUE_URL, which the binary does not read"},
		{"a password in plain text", func(m map[string]any) {
			envOf(m, "WorkerLambdaFunction")["BASIC_AUTH_PASSWORD"] = "hunter2"
		}, "BASIC_AUTH_PASSWORD, a credential in plain text"},
		{"a password in the URL", func(m map[string]any) {
			envOf(m, "ApiLambdaFunction")["DATABASE_URL"] = "postgres://icy_app:hunter2@db:5432/icy"
		}, "DATABASE_URL carries a password"},
		{"a variable Terraform does not set", func(m map[string]any) { envOf(m, "ApiLambdaFunction")["HTTP_MAX_CONNS"] = "9" }, "but Terraform's local.function_environment sets"},
		{"a variable missing", func(m map[string]any) { delete(envOf(m, "WorkerLambdaFunction"), "NOTIFY_SECRET_ARN") }, "but Terraform's local.worker_environment sets"},
		{"the migrate function serving", func(m map[string]any) { delete(envOf(m, "MigrateLambdaFunction"), "ICY_MORNING_FUNCTION") }, "MigrateLambdaFunction: the binary refuses"},
		{"a shared role", func(m map[string]any) {
			props(m, "WorkerLambdaFunction")["Role"] = map[string]any{"Fn::GetAtt": []any{"ApiRole", "Arn"}}
		}, "want its own role WorkerRole"},
		{"a statement Terraform lacks", func(m map[string]any) {
			doc := props(m, "MigrateRole")["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)
			doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Sid": "AdministerEverything", "Effect": "Allow", "Action": "*", "Resource": "*"})
		}, `statement "AdministerEverything"`},
		{"no VPC", func(m map[string]any) { delete(props(m, "ApiLambdaFunction"), "VpcConfig") }, "no VpcConfig"},
		{"a fourth function", func(m map[string]any) {
			m["Resources"].(map[string]any)["ExtraLambdaFunction"] = map[string]any{"Type": "AWS::Lambda::Function"}
		}, "functions [ApiLambdaFunction ExtraLambdaFunction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := loadServerlessTemplate(t) // a fresh copy each time
			tt.spoil(tmpl)
			problems := checkServerlessTemplate(t, tmpl, tf, makefile)
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Fatalf("no problem mentions %q; got %q", tt.want, problems)
		})
	}
}
