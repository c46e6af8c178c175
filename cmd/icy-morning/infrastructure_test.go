package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/icy-morning/icy-morning/mail"
	"github.com/icy-morning/icy-morning/notify"
)

// These tests hold the Terraform in infrastructure/ to what this binary
// and `make lambda` actually are: the environment of each function built
// from the zip (the API and the notifications worker) is evaluated from the
// HCL for each combination of the variables that shape it, and the lambda
// command's own configuration reader, mail transport and mail composer must
// accept exactly that environment.

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

// evalContext gives an expression the variables in vars and the locals it
// refers to, themselves evaluated the same way; every other reference
// (resources, data sources, and a local that needs them to be evaluated) is
// unknown, as at plan time before anything exists. An attribute is an
// unknown string that is not null (what apply gives it), so a test such as
// `id != null` is decided; a counted resource (`name[0].id`) is a tuple of
// such objects.
func (tf terraform) evalContext(expr hcl.Expression, vars map[string]cty.Value) *hcl.EvalContext {
	return tf.evalContextVisiting(expr, vars, map[string]bool{})
}

func (tf terraform) evalContextVisiting(expr hcl.Expression, vars map[string]cty.Value, visiting map[string]bool) *hcl.EvalContext {
	type tree map[string]any // a subtree, a *counted, or a cty.Value leaf
	type counted struct {
		each tree // the attributes referenced, the same for every instance
		n    int  // instances: the highest index referenced, plus one
	}
	roots := tree{}
	locals := map[string]cty.Value{}
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		if root == "var" {
			continue
		}
		if root == "local" {
			if len(tr) > 1 {
				if a, ok := tr[1].(hcl.TraverseAttr); ok {
					if _, done := locals[a.Name]; !done {
						locals[a.Name] = tf.local(a.Name, vars, visiting)
					}
				}
			}
			continue
		}
		node := roots
	walk:
		for i := 0; i < len(tr); i++ {
			var name string
			switch s := tr[i].(type) {
			case hcl.TraverseRoot:
				name = s.Name
			case hcl.TraverseAttr:
				name = s.Name
			}
			if name == "" {
				break
			}
			if i == len(tr)-1 {
				if _, ok := node[name]; !ok {
					node[name] = cty.UnknownVal(cty.String).RefineNotNull()
				}
				break
			}
			switch next := tr[i+1].(type) {
			case hcl.TraverseAttr:
				sub, ok := node[name].(tree)
				if !ok {
					sub = tree{}
					node[name] = sub
				}
				node = sub
			case hcl.TraverseIndex:
				k, acc := int64(-1), big.Below
				if next.Key.Type() == cty.Number && next.Key.IsKnown() {
					k, acc = next.Key.AsBigFloat().Int64()
				}
				if acc != big.Exact || k < 0 || i+2 == len(tr) {
					node[name] = cty.DynamicVal // for_each, a list attribute: shape unknown
					break walk
				}
				c, ok := node[name].(*counted)
				if !ok {
					c = &counted{each: tree{}}
					node[name] = c
				}
				c.n = max(c.n, int(k)+1)
				node = c.each
				i++ // past the index
			default:
				node[name] = cty.DynamicVal
				break walk
			}
		}
	}
	var build func(n tree) cty.Value
	build = func(n tree) cty.Value {
		attrs := map[string]cty.Value{}
		for k, v := range n {
			switch v := v.(type) {
			case tree:
				attrs[k] = build(v)
			case *counted:
				attrs[k] = cty.TupleVal(slices.Repeat([]cty.Value{build(v.each)}, v.n))
			case cty.Value:
				attrs[k] = v
			}
		}
		return cty.ObjectVal(attrs)
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars), "local": cty.ObjectVal(locals)}, Functions: map[string]function.Function{
		"merge":    stdlib.MergeFunc,
		"coalesce": stdlib.CoalesceFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"floor":    stdlib.FloorFunc,
		"length":   stdlib.LengthFunc,
		"join":     stdlib.JoinFunc,
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

// local evaluates local.name; one that refers to itself, or cannot be
// evaluated here, is unknown.
func (tf terraform) local(name string, vars map[string]cty.Value, visiting map[string]bool) cty.Value {
	expr, ok := tf.locals[name]
	if !ok || visiting[name] {
		return cty.DynamicVal
	}
	visiting[name] = true
	defer delete(visiting, name)
	v, diags := expr.Value(tf.evalContextVisiting(expr, vars, visiting))
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return v
}

// eval evaluates an expression with vars (see evalContext).
func (tf terraform) eval(expr hcl.Expression, vars map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	return expr.Value(tf.evalContext(expr, vars))
}

// placeholder stands in for a value Terraform knows only after apply.
func placeholder(name string) string {
	switch {
	case name == "DATABASE_URL":
		return "postgres://icy@db.example.internal:5432/icy?sslmode=require"
	case name == "PUBLIC_BASE_URL":
		return "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/"
	case name == "NOTIFY_QUEUE_URL":
		return "https://sqs.eu-west-1.amazonaws.com/123456789012/icy-morning-dev-asset-events"
	case name == "OIDC_ISSUER_URL":
		return "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example12"
	case name == "OIDC_CLIENT_IDS", name == "OIDC_DOCS_CLIENT_ID":
		return "1example23456789abcdefghij"
	case name == "CDN_DISTRIBUTION_ID":
		return "E2EXAMPLE12345"
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

// lambdaFunction is one function the Terraform deploys from the zip, and
// the local its environment must be.
type lambdaFunction struct {
	resource, environment string
	api                   bool // the API function: it nudges the worker
}

var lambdaFunctions = []lambdaFunction{
	{resource: "aws_lambda_function.api", environment: "function_environment", api: true},
	{resource: "aws_lambda_function.worker", environment: "worker_environment"},
}

// scenario is one combination of the variables that shape the functions'
// environment.
type scenario struct {
	name string
	vars map[string]cty.Value
}

func scenarios() []scenario {
	var out []scenario
	senders := []scenario{
		{"address identity", map[string]cty.Value{"ses_sender_address": cty.StringVal("notifications@example.com")}},
		{"domain identity, custom domain", map[string]cty.Value{
			"ses_sender_domain": cty.StringVal("example.com"), "mail_from": cty.StringVal("Icy Morning <alerts@example.com>"),
			"enable_custom_domain": cty.True, "api_gateway_domain": cty.StringVal("api.example.com"),
		}},
	}
	for _, db := range []struct {
		name       string
		iam, proxy bool
	}{{"secret", false, false}, {"secret via RDS Proxy", false, true}, {"IAM auth", true, false}, {"IAM auth via RDS Proxy", true, true}} {
		for _, snd := range senders {
			vars := map[string]cty.Value{"database_iam_auth": cty.BoolVal(db.iam), "enable_rds_proxy": cty.BoolVal(db.proxy)}
			for k, v := range snd.vars {
				vars[k] = v
			}
			out = append(out, scenario{db.name + ", " + snd.name, vars})
		}
	}
	// The CDN: the API checks the origin secret, the worker invalidates.
	for _, db := range []bool{false, true} {
		out = append(out, scenario{fmt.Sprintf("CDN, IAM auth %v", db), map[string]cty.Value{
			"enable_cdn": cty.True, "database_iam_auth": cty.BoolVal(db),
			"ses_sender_address": cty.StringVal("notifications@example.com"),
		}})
	}
	// The SES quota split and the claim timeout follow these.
	for _, q := range []struct{ rate, workers, timeout int64 }{{1, 2, 60}, {50, 4, 60}, {200, 10, 300}} {
		vars := map[string]cty.Value{
			"ses_sender_address":     cty.StringVal("notifications@example.com"),
			"ses_max_send_rate":      cty.NumberIntVal(q.rate),
			"worker_max_concurrency": cty.NumberIntVal(q.workers),
			"worker_timeout_seconds": cty.NumberIntVal(q.timeout),
		}
		out = append(out, scenario{fmt.Sprintf("SES rate %d/s, %d workers, %d s timeout", q.rate, q.workers, q.timeout), vars})
	}
	// Single sign-on (auth.tf): the user pool made here, or an issuer of
	// the operator's. A function that fetches an issuer needs the NAT
	// gateway (a variable validation says so).
	jwt := func(authType string, more map[string]cty.Value) map[string]cty.Value {
		vars := map[string]cty.Value{"auth_type": cty.StringVal(authType), "enable_nat_gateway": cty.True}
		maps.Copy(vars, more)
		return vars
	}
	issuer := cty.StringVal("https://login.example.com/realms/icy")
	out = append(out,
		scenario{"jwt, Cognito", jwt("jwt", map[string]cty.Value{"enable_cognito": cty.True})},
		scenario{"basic,jwt, Cognito, reads need credentials", jwt("basic,jwt", map[string]cty.Value{
			"enable_cognito": cty.True, "reads_require_auth": cty.True, "cognito_write_group": cty.StringVal("editors"),
		})},
		scenario{"jwt, external issuer with audience, groups and docs client", jwt("jwt", map[string]cty.Value{
			"oidc_issuer_url": issuer, "oidc_audience": cty.StringVal("icy-morning"), "oidc_write_scope": cty.StringVal("write"),
			"oidc_groups_claim": cty.StringVal("groups"), "oidc_write_group": cty.StringVal("writers"),
			"oidc_docs_client_id": cty.StringVal("icy-docs"), "enable_api_jwt_authorizer": cty.True,
		})},
		scenario{"basic,jwt, external issuer with client ids", jwt("basic,jwt", map[string]cty.Value{
			"oidc_issuer_url": issuer, "oidc_client_ids": cty.ListVal([]cty.Value{cty.StringVal("app-a"), cty.StringVal("app-b")}),
		})},
	)
	// The CDN (cdn.tf), and the cache settings both functions get with it
	// or without it.
	out = append(out,
		scenario{"CDN", map[string]cty.Value{"enable_cdn": cty.True}},
		scenario{"CDN, cache settings, jwt with Cognito", jwt("jwt", map[string]cty.Value{
			"enable_cdn": cty.True, "enable_cognito": cty.True,
			"cache_max_age": cty.NumberIntVal(30), "cache_s_maxage": cty.NumberIntVal(300),
		})},
		scenario{"cache settings without the CDN", map[string]cty.Value{"cache_max_age": cty.NumberIntVal(10), "cache_s_maxage": cty.NumberIntVal(0)}},
	)
	return out
}

// pendingSettings are names Terraform sets that this binary does not read
// yet: the CDN's, which cmd/icy-morning/config.go gains on another branch.
// A scenario whose environment has one is checked in everything else and
// then skipped, naming them. Once the binary reads a name,
// TestInfrastructureMatchesTheBinary fails until it is removed from here.
var pendingSettings []string

// checkFunctionEnvironment runs checkStatic and checkScenario for every
// scenario, and returns every problem.
func checkFunctionEnvironment(t *testing.T, tf terraform) []string {
	t.Helper()
	problems := checkStatic(tf)
	for _, sc := range scenarios() {
		p, _ := checkScenario(t, tf, sc)
		problems = append(problems, p...)
	}
	return problems
}

// checkStatic checks what no variable changes: the database URLs and the
// functions' environment blocks.
func checkStatic(tf terraform) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// The URL is only known after apply; its text must ask for a verified
	// server (the binary carries the RDS authorities for it).
	// The API and worker sign in as the least-privilege role, the migrate
	// function as the master user.
	for _, u := range []struct{ local, user string }{
		{"app_database_url", "${local.app_db_username}@"},
		{"migrate_database_url", "${var.db_master_username}@"},
	} {
		expr, ok := tf.locals[u.local]
		switch {
		case !ok:
			bad("no local.%s", u.local)
		case !strings.Contains(tf.source(expr), "sslmode=verify-full"):
			bad("local.%s does not ask for sslmode=verify-full", u.local)
		case !strings.Contains(tf.source(expr), u.user):
			bad("local.%s does not sign in as %s", u.local, strings.TrimSuffix(u.user, "@"))
		}
	}
	if u, ok := tf.locals["app_db_username"]; !ok || tf.source(u) != `"icy_app"` {
		bad("local.app_db_username is not \"icy_app\", the role the migrations create")
	}
	for _, fn := range lambdaFunctions {
		res, ok := tf.resources[fn.resource]
		if !ok {
			bad("no %s", fn.resource)
			continue
		}
		if _, ok := tf.locals[fn.environment]; !ok {
			bad("infrastructure has no local %s (the environment of %s)", fn.environment, fn.resource)
			continue
		}
		// What is checked below must be what the function gets.
		if got := environmentSource(tf, res); got != "local."+fn.environment {
			bad("%s: environment variables = %s, not local.%s", fn.resource, got, fn.environment)
		}
	}
	return problems
}

// checkScenario evaluates each function's environment with the scenario's
// variables and returns what is wrong, and the pendingSettings the
// environment has, which the binary does not read yet.
func checkScenario(t *testing.T, tf terraform, sc scenario) (problems, unread []string) {
	t.Helper()
	known := map[string]bool{}
	for _, k := range envNames(modeLambda) {
		known[k] = true
	}
	// Terraform must never hand a function a credential in plain text.
	forbidden := map[string]bool{"BASIC_AUTH_USERNAME": true, "BASIC_AUTH_PASSWORD": true, "SQLALCHEMY_DATABASE_CONNECTION_URI": true, "NOTIFY_SECRET": true}

	vars := tf.defaults(t)
	for name, v := range sc.vars {
		if _, ok := vars[name]; !ok {
			t.Fatalf("variable %s is gone: update this test", name)
		}
		vars[name] = v
	}
	problems = checkMigrateFunction(t, tf, sc.name, vars)
	for _, fn := range lambdaFunctions {
		expr, ok := tf.locals[fn.environment]
		if _, res := tf.resources[fn.resource]; !ok || !res {
			continue // checkStatic reports it
		}
		p, u := checkEnvironment(t, tf, fn, expr, sc.name, vars, known, forbidden)
		problems = append(problems, p...)
		unread = append(unread, u...)
	}
	slices.Sort(unread)
	return problems, slices.Compact(unread)
}

// checkMigrateFunction evaluates the migrate function's environment for
// each scenario: the binary must take it in its migrate part, signing in
// as the master user with a password (never IAM: the apply that creates
// the database must get in), and giving icy_app its way in: a password
// from the app secret, or rds_iam where the functions use IAM without
// the proxy (through it, the proxy signs in to the database with the
// password).
func checkMigrateFunction(t *testing.T, tf terraform, scName string, vars map[string]cty.Value) []string {
	t.Helper()
	var problems []string
	const resource, local = "aws_lambda_function.migrate", "migrate_environment"
	res, ok := tf.resources[resource]
	expr, ok2 := tf.locals[local]
	if !ok || !ok2 {
		return []string{fmt.Sprintf("no %s or no local.%s", resource, local)}
	}
	if got := environmentSource(tf, res); got != "local."+local {
		problems = append(problems, fmt.Sprintf("%s: environment variables = %s, not local.%s", resource, got, local))
	}
	{
		name := resource + " (" + scName + ")"
		bad := func(format string, args ...any) { problems = append(problems, name+": "+fmt.Sprintf(format, args...)) }
		val, diags := tf.eval(expr, vars)
		if diags.HasErrors() || !val.IsKnown() || val.IsNull() || !val.CanIterateElements() {
			t.Fatalf("%s: local.%s does not evaluate to a map: %v", name, local, diags)
		}
		env := map[string]string{}
		for k, v := range val.AsValueMap() {
			env[k] = placeholder(k)
			if v.IsKnown() && !v.IsNull() {
				env[k] = v.AsString()
			}
		}
		c, err := readConfig(modeLambda, nil, nil, func(k string) string { return env[k] })
		if err != nil {
			bad("the binary refuses the environment Terraform gives it: %v", err)
			return problems
		}
		iam, proxy := vars["database_iam_auth"].True(), vars["enable_rds_proxy"].True()
		switch {
		case c.function != functionMigrate:
			bad("ICY_MORNING_FUNCTION = %q, want %s", c.function, functionMigrate)
		case c.dbIAMAuth || c.dbSecretARN == "":
			bad("the master must sign in with its secret: iamAuth=%v secretARN=%q", c.dbIAMAuth, c.dbSecretARN)
		case c.dbWait <= 0:
			bad("DB_WAIT = %v: a new RDS Proxy may not answer at once", c.dbWait)
		case iam && !proxy && (!c.appIAMAuth || c.appSecretARN != ""):
			bad("IAM auth without the proxy: icy_app needs rds_iam (APP_DATABASE_IAM_AUTH), got iam=%v secret=%q", c.appIAMAuth, c.appSecretARN)
		case !(iam && !proxy) && (c.appIAMAuth || c.appSecretARN == ""):
			bad("icy_app needs its password from the app secret (APP_DATABASE_SECRET_ARN), got iam=%v secret=%q", c.appIAMAuth, c.appSecretARN)
		}
	}
	return problems
}

// environmentSource is the text of a function's environment variables.
func environmentSource(tf terraform, fn *hclsyntax.Block) string {
	for _, b := range fn.Body.Blocks {
		if b.Type == "environment" {
			if a, ok := b.Body.Attributes["variables"]; ok {
				return tf.source(a.Expr)
			}
		}
	}
	return "(none)"
}

func checkEnvironment(t *testing.T, tf terraform, fn lambdaFunction, expr hcl.Expression, scName string, vars map[string]cty.Value, known, forbidden map[string]bool) (problems, unread []string) {
	t.Helper()
	name := fn.resource + " (" + scName + ")"
	bad := func(format string, args ...any) { problems = append(problems, name+": "+fmt.Sprintf(format, args...)) }
	val, diags := tf.eval(expr, vars)
	if diags.HasErrors() {
		t.Fatalf("%s: evaluating local.%s: %v", name, fn.environment, diags)
	}
	if !val.IsKnown() || val.IsNull() || !val.CanIterateElements() {
		t.Fatalf("%s: local.%s does not evaluate to a map here (a function this test lacks?)", name, fn.environment)
	}
	env := map[string]string{}
	var unknown []string
	for k, v := range val.AsValueMap() {
		switch {
		case !known[k] && slices.Contains(pendingSettings, k):
			unread = append(unread, k)
		case !known[k]:
			bad("Terraform sets %s, which the binary does not read", k)
		case forbidden[k]:
			bad("Terraform sets %s, a credential in plain text", k)
		}
		if v.IsKnown() && !v.IsNull() {
			env[k] = v.AsString()
		} else {
			env[k] = placeholder(k)
			unknown = append(unknown, k)
		}
	}
	c, err := readConfig(modeLambda, nil, nil, func(k string) string { return env[k] })
	if err != nil {
		bad("the binary refuses the environment Terraform gives it: %v", err)
		return problems, unread
	}
	problems = append(problems, checkAuth(name, c, vars)...)
	iam, proxy := vars["database_iam_auth"].True(), vars["enable_rds_proxy"].True()
	if c.dbIAMAuth != iam || (c.dbSecretARN != "") == iam {
		bad("credentials: iamAuth=%v secretARN=%q", c.dbIAMAuth, c.dbSecretARN)
	}
	if proxy && c.queryExecMode != "exec" && c.queryExecMode != "describe_exec" {
		bad("behind RDS Proxy DB_QUERY_EXEC_MODE = %q: prepared statements would pin sessions", c.queryExecMode)
	}

	// Mail. The values the binary would refuse only at init (an invocation
	// too late) are checked with its own parsers.
	if slices.Contains(unknown, "MAIL_URL") {
		bad("MAIL_URL is not known at plan time: it must be built from variables and locals")
	} else if !strings.HasPrefix(c.mailURL, "ses://") {
		bad("MAIL_URL = %q: the functions must send through SES", c.mailURL)
	} else {
		problems = append(problems, checkMailURL(t, tf, name, c, vars)...)
	}
	if _, err := notify.NewComposer(c.mailFrom, c.publicBaseURL, make([]byte, 32)); err != nil {
		bad("MAIL_FROM %q or PUBLIC_BASE_URL %q: %v", c.mailFrom, c.publicBaseURL, err)
	}
	if d, ok := vars["api_gateway_domain"]; ok && vars["enable_custom_domain"].True() && c.publicBaseURL != "https://"+d.AsString()+"/" {
		bad("PUBLIC_BASE_URL = %q, but links should use the custom domain %s", c.publicBaseURL, d.AsString())
	}
	if c.notifySecretARN == "" {
		bad("no NOTIFY_SECRET_ARN: the functions would not share Terraform's link-signing key")
	}
	if fn.api && c.notifyQueueURL == "" {
		bad("no NOTIFY_QUEUE_URL: the API function would not nudge the worker")
	}
	if !fn.api && c.notifyQueueURL != "" {
		bad("NOTIFY_QUEUE_URL is set: only the API function nudges")
	}
	if c.mailMaxPerSec <= 0 {
		bad("MAIL_MAX_PER_SECOND = %v: without a cap the functions would pass the SES send rate", c.mailMaxPerSec)
	}
	// The CDN's two halves: the API refuses what bypassed it, the worker
	// (which runs the dispatcher) invalidates after writes; never the
	// other way round, and nothing without the CDN.
	cdnOn := vars["enable_cdn"].True()
	switch {
	case fn.api && cdnOn && c.originSecretARN == "":
		bad("no CDN_ORIGIN_SECRET_ARN: the API function would answer requests that bypass CloudFront")
	case !fn.api && cdnOn && c.cdnDistributionID == "":
		bad("no CDN_DISTRIBUTION_ID: the worker would not invalidate the CDN after writes")
	case fn.api && c.cdnDistributionID != "":
		bad("CDN_DISTRIBUTION_ID is set: only the worker invalidates")
	case !fn.api && (c.originSecretARN != "" || c.originSecret != ""):
		bad("the worker has an origin secret: it serves no HTTP")
	case !cdnOn && (c.originSecretARN != "" || c.cdnDistributionID != ""):
		bad("CDN settings without enable_cdn")
	}
	if !fn.api {
		// The queue runs up to worker_max_concurrency instances, the
		// schedule one more; together they must stay under the quota
		// (unless that is below one mail a second each).
		rate, _ := vars["ses_max_send_rate"].AsBigFloat().Float64()
		workers, _ := vars["worker_max_concurrency"].AsBigFloat().Float64()
		if c.mailMaxPerSec > 1 && c.mailMaxPerSec*(workers+1) > rate {
			bad("MAIL_MAX_PER_SECOND = %v: %v workers and the sweep would exceed the SES rate of %v/s", c.mailMaxPerSec, workers, rate)
		}
	}
	// A delivery claimed by a live worker must not be taken over.
	if w, ok := tf.resources["aws_lambda_function.worker"]; ok {
		if a, ok := w.Body.Attributes["timeout"]; ok {
			if v, diags := tf.eval(a.Expr, vars); !diags.HasErrors() && v.IsKnown() && v.Type() == cty.Number {
				secs, _ := v.AsBigFloat().Int64()
				if c.claimTimeout <= time.Duration(secs)*time.Second {
					bad("NOTIFY_CLAIM_TIMEOUT %v is not longer than the worker's timeout (%d s): a live worker's claim could be taken over", c.claimTimeout, secs)
				}
			}
		}
	}
	return problems, unread
}

// checkAuth holds what the binary read to the scenario's auth variables:
// the schemes, and the issuer's settings from the user pool or from the
// oidc_* variables.
func checkAuth(name string, c config, vars map[string]cty.Value) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, name+": "+fmt.Sprintf(format, args...)) }
	str := func(v string) string {
		if vars[v].IsNull() {
			return ""
		}
		return vars[v].AsString()
	}
	if got, want := c.authType(), str("auth_type"); got != want {
		bad("AUTH_TYPE reads as %s, but auth_type = %s", got, want)
	}
	if c.privateReads != vars["reads_require_auth"].True() {
		bad("READS_REQUIRE_AUTH reads as %v, but reads_require_auth = %v", c.privateReads, vars["reads_require_auth"].True())
	}
	if c.authBasic == (c.authSecretARN == "") {
		bad("BASIC_AUTH_SECRET_ARN = %q with AUTH_TYPE %s", c.authSecretARN, c.authType())
	}
	if !c.authJWT {
		return problems
	}
	o := c.oidc
	if vars["enable_cognito"].True() {
		if !strings.HasPrefix(o.IssuerURL, "https://cognito-idp.") || len(o.ClientIDs) != 1 || o.Audience != "" ||
			o.WriteScope != "icy-morning/write" || o.GroupsClaim != "cognito:groups" || o.WriteGroup != str("cognito_write_group") || o.DocsClientID == "" {
			bad("Cognito: the binary reads %+v, want the pool's issuer, its docs client as the one client id and the docs client, scope icy-morning/write and group %s in cognito:groups", o, str("cognito_write_group"))
		}
		return problems
	}
	var ids []string
	if v := vars["oidc_client_ids"]; !v.IsNull() {
		for _, e := range v.AsValueSlice() {
			ids = append(ids, e.AsString())
		}
	}
	if o.IssuerURL != str("oidc_issuer_url") || o.Audience != str("oidc_audience") || !slices.Equal(o.ClientIDs, ids) ||
		o.WriteScope != str("oidc_write_scope") || o.GroupsClaim != str("oidc_groups_claim") || o.WriteGroup != str("oidc_write_group") ||
		o.DocsClientID != str("oidc_docs_client_id") {
		bad("external issuer: the binary reads %+v, which is not what the oidc_* variables say", o)
	}
	return problems
}

// checkMailURL opens MAIL_URL as the binary does and holds it to the SES
// configuration set Terraform creates.
func checkMailURL(t *testing.T, tf terraform, name string, c config, vars map[string]cty.Value) []string {
	t.Helper()
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, name+": "+fmt.Sprintf(format, args...)) }
	sender, err := mail.Open(context.Background(), c.mailURL, mail.Options{MaxPerSecond: c.mailMaxPerSec})
	if err != nil {
		bad("the binary refuses MAIL_URL %q: %v", c.mailURL, err)
		return problems
	}
	sender.Close()
	u, err := url.Parse(c.mailURL)
	if err != nil {
		bad("MAIL_URL %q: %v", c.mailURL, err)
		return problems
	}
	if got, want := u.Query().Get("region"), vars["aws_region"].AsString(); got != want {
		bad("MAIL_URL region = %q, want the deployment's %q", got, want)
	}
	set, ok := tf.resources["aws_sesv2_configuration_set.main"]
	if !ok {
		bad("no aws_sesv2_configuration_set.main")
		return problems
	}
	a, ok := set.Body.Attributes["configuration_set_name"]
	if !ok {
		bad("aws_sesv2_configuration_set.main has no configuration_set_name")
		return problems
	}
	want, diags := tf.eval(a.Expr, vars)
	if diags.HasErrors() || !want.IsKnown() || want.IsNull() {
		bad("the configuration set's name is not known at plan time")
		return problems
	}
	if got := u.Query().Get("configuration_set"); got != want.AsString() {
		bad("MAIL_URL names configuration set %q, but Terraform creates %q: bounces and complaints would not be seen", got, want.AsString())
	}
	return problems
}

// checkMakeLambda compares each function resource with what the Makefile's
// lambda target builds.
func checkMakeLambda(t *testing.T, tf terraform, makefile []byte) []string {
	t.Helper()
	var problems []string
	archMatch := regexp.MustCompile(`(?m)^LAMBDA_ARCH \?= (\S+)$`).FindSubmatch(makefile)
	zipMatch := regexp.MustCompile(`(?m)^LAMBDA_ZIP := (\S+)$`).FindSubmatch(makefile)
	if archMatch == nil || zipMatch == nil {
		return append(problems, "the Makefile lacks LAMBDA_ARCH ?= or LAMBDA_ZIP :=")
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "-tags lambda.norpc", "-o dist/lambda-$(LAMBDA_ARCH)/bootstrap"} {
		if !bytes.Contains(makefile, []byte(want)) {
			problems = append(problems, fmt.Sprintf("the lambda target no longer has %q", want))
		}
	}
	lambdaArch := map[string]string{"arm64": "arm64", "amd64": "x86_64"}[string(archMatch[1])]
	vars := tf.defaults(t)
	hashes, images := map[string]string{}, map[string]string{}
	for _, f := range lambdaFunctions {
		fn, ok := tf.resources[f.resource]
		if !ok {
			problems = append(problems, "no "+f.resource)
			continue
		}
		bad := func(format string, args ...any) {
			problems = append(problems, f.resource+": "+fmt.Sprintf(format, args...))
		}
		attr := func(name string) cty.Value {
			a, ok := fn.Body.Attributes[name]
			if !ok {
				bad("no %s", name)
				return cty.StringVal("")
			}
			if name == "source_code_hash" {
				// Compared as written: the zip's hash is known only where
				// it is built.
				hashes[f.resource] = tf.source(a.Expr)
				return cty.NullVal(cty.String)
			}
			v, diags := tf.eval(a.Expr, vars)
			if diags.HasErrors() {
				t.Fatalf("%s.%s: %v", f.resource, name, diags)
			}
			return v
		}
		if a, ok := fn.Body.Attributes["image_uri"]; ok {
			images[f.resource] = tf.source(a.Expr)
		}
		// package_type = "Image" runs the container image instead; the
		// default deploys the zip make lambda builds, checked below.
		if got := attr("package_type"); !got.IsKnown() || got.IsNull() || got.AsString() != "Zip" {
			bad("package_type is %#v by default, want \"Zip\" (the zip make lambda builds)", got)
			continue
		}
		if got := attr("handler").AsString(); got != "bootstrap" {
			bad("handler = %q, want bootstrap (the only file in the zip)", got)
		}
		if got := attr("runtime").AsString(); got != "provided.al2023" {
			bad("runtime = %q, want provided.al2023", got)
		}
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
		attr("source_code_hash")
	}
	if a, w := images["aws_lambda_function.api"], images["aws_lambda_function.worker"]; a != w {
		problems = append(problems, fmt.Sprintf("aws_lambda_function.worker: image_uri = %s, but the API function's is %s: the two must be the same image", w, a))
	}
	// One binary: a worker deployed from other code would read the
	// environment differently from what this test checks.
	if a, w := hashes["aws_lambda_function.api"], hashes["aws_lambda_function.worker"]; a != "" && w != "" && a != w {
		problems = append(problems, fmt.Sprintf("aws_lambda_function.worker: source_code_hash = %s, but the API function's is %s: the two must be the same zip", w, a))
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
	for _, p := range append(checkStatic(tf), checkMakeLambda(t, tf, readMakefile(t))...) {
		t.Error(p)
	}
	for _, k := range pendingSettings {
		if slices.Contains(envNames(modeLambda), k) {
			t.Errorf("the binary reads %s now: remove it from pendingSettings, so that no scenario is skipped for it", k)
		}
	}
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			problems, unread := checkScenario(t, tf, sc)
			for _, p := range problems {
				t.Error(p)
			}
			if len(unread) > 0 {
				t.Skipf("SKIPPED: Terraform sets %s, which this binary does not read yet (cmd/icy-morning/config.go gains them on another branch); the rest of this environment was checked", strings.Join(unread, ", "))
			}
		})
	}
}

// The checks above fire on the mistakes they exist for: each case edits a
// copy of the Terraform and expects its problem to be reported.
func TestInfrastructureChecksFire(t *testing.T) {
	tests := []struct {
		name, file, old, new, want string
	}{
		{"an unverified database server", "database.tf", `${var.db_name}?sslmode=verify-full"`, `${var.db_name}?sslmode=require"`, "sslmode=verify-full"},
		{"icy_app's way in swapped", "migrate.tf", `local.app_db_iam_at_database ? {`, `!local.app_db_iam_at_database ? {`, "icy_app needs its password from the app secret"},
		{"migrations signing in by IAM", "migrate.tf", `DATABASE_SECRET_ARN = local.db_master_secret_arn`, `DATABASE_IAM_AUTH = "true"`, "signs in as the database's owner with DATABASE_SECRET_ARN"},
		{"a variable the binary does not read", "function.tf", `LOG_FORMAT   = "json"`, `LOG_FORMAT = "json"
      QUEUE_URL = "x"`, "sets QUEUE_URL, which the binary does not read"},
		{"a plain-text password", "function.tf", `LOG_FORMAT   = "json"`, `LOG_FORMAT = "json"
      BASIC_AUTH_PASSWORD = "hunter2"`, "BASIC_AUTH_PASSWORD, a credential in plain text"},
		{"a plain-text link-signing key", "function.tf", `NOTIFY_CLAIM_TIMEOUT = "${local.notify_claim_timeout_seconds}s"`, `NOTIFY_CLAIM_TIMEOUT = "${local.notify_claim_timeout_seconds}s"
    NOTIFY_SECRET = "0123456789abcdef0123456789abcdef"`, "NOTIFY_SECRET, a credential in plain text"},
		{"a required variable missing", "function.tf", `BASIC_AUTH_SECRET_ARN = local.basic_auth_secret_arn`, ``, "no API account"},
		{"prepared statements through the proxy", "function.tf", `DB_QUERY_EXEC_MODE = "exec"`, `DB_QUERY_EXEC_MODE = "cache_statement"`, "would pin sessions"},
		{"a wrong handler", "function.tf", `handler          = local.lambda_zip ? "bootstrap" : null`, `handler = "main"`, `handler = "main"`},
		{"a wrong runtime", "function.tf", `runtime          = local.lambda_zip ? "provided.al2023" : null`, `runtime = "provided.al2"`, `runtime = "provided.al2"`},
		{"a wrong architecture", "function.tf", `architectures    = [var.lambda_architecture]`, `architectures = ["x86_64"]`, "architectures = [x86_64]"},
		{"a worker variable the binary does not read", "worker.tf", `MAIL_CONNECTIONS = tostring(min(4, local.worker_mail_per_second))`, `MAIL_CONNECTIONS = "4"
    WORKER_QUEUE     = "x"`, "aws_lambda_function.worker (secret, address identity): Terraform sets WORKER_QUEUE"},
		{"the worker nudging", "worker.tf", `MAIL_CONNECTIONS = tostring(min(4, local.worker_mail_per_second))`, `MAIL_CONNECTIONS = "4"
    NOTIFY_QUEUE_URL = aws_sqs_queue.asset_events.url`, "only the API function nudges"},
		{"the API not nudging", "function.tf", `NOTIFY_QUEUE_URL    = aws_sqs_queue.asset_events.url`, ``, "would not nudge the worker"},
		{"no link-signing secret", "function.tf", `NOTIFY_SECRET_ARN    = aws_secretsmanager_secret.notify.arn`, ``, "NOTIFY_SECRET_ARN"},
		{"mail not through SES", "mail.tf", `mail_url = "ses://?region=`, `mail_url = "log://?region=`, "must send through SES"},
		{"a MAIL_URL the binary refuses", "mail.tf", `&configuration_set=`, `&config_set=`, "the binary refuses MAIL_URL"},
		{"another configuration set", "mail.tf", `configuration_set_name = local.ses_configuration_set_name`, `configuration_set_name = "someone-elses"`, "bounces and complaints would not be seen"},
		{"a MAIL_FROM the composer refuses", "mail.tf", `"Icy Morning <${coalesce(var.ses_sender_address, "x@x.invalid")}>"`, `"Icy Morning"`, "MAIL_FROM"},
		{"links away from the custom domain", "function.tf", `var.enable_custom_domain && var.api_gateway_domain != null ?`, `false ?`, "should use the custom domain"},
		{"workers over the SES rate", "worker.tf", `floor(var.ses_max_send_rate / (var.worker_max_concurrency + 1))`, `var.ses_max_send_rate`, "would exceed the SES rate"},
		{"no cap on the API's mail", "function.tf", `MAIL_MAX_PER_SECOND = "1"`, `MAIL_MAX_PER_SECOND = "0"`, "without a cap"},
		{"a claim shorter than the worker", "function.tf", `max(120, 2 * var.worker_timeout_seconds)`, `30`, "a live worker's claim could be taken over"},
		{"a worker environment the test does not see", "worker.tf", `variables = local.worker_environment`, `variables = merge(local.worker_environment, { X = "y" })`, "not local.worker_environment"},
		{"a wrong worker handler", "worker.tf", `handler          = local.lambda_zip ? "bootstrap" : null`, `handler = "main"`, `aws_lambda_function.worker: handler = "main"`},
		{"a worker from another zip", "worker.tf", `source_code_hash = local.lambda_zip_hash`, `source_code_hash = filebase64sha256("other.zip")`, "must be the same zip"},
		{"a worker from another image", "worker.tf", `image_uri        = local.lambda_image_uri`, `image_uri = "other:v1"`, "must be the same image"},
		{"a misnamed OIDC setting", "auth.tf", `OIDC_WRITE_SCOPE = local.cognito ?`, `OIDC_SCOPE = local.cognito ?`, "(jwt, Cognito): Terraform sets OIDC_SCOPE, which the binary does not read"},
		{"no client id for Cognito's tokens", "auth.tf", `length(local.oidc_client_ids) > 0 ? {`, `false ? {`, "(jwt, Cognito): the binary refuses the environment"},
		{"an external audience left out", "auth.tf", `!local.cognito && var.oidc_audience != null ? {`, `false ? {`, "(jwt, external issuer with audience, groups and docs client): the binary refuses"},
		{"an external group left out", "auth.tf", `!local.cognito && var.oidc_groups_claim != null ? {`, `false ? {`, "external issuer: the binary reads"},
		{"a misnamed CDN setting", "cdn.tf", `CDN_DISTRIBUTION_ID = aws_cloudfront`, `CDN_DIST_ID = aws_cloudfront`, "aws_lambda_function.worker (CDN): Terraform sets CDN_DIST_ID, which the binary does not read"},
		{"a misnamed cache setting", "cdn.tf", `{ CACHE_MAX_AGE = tostring(var.cache_max_age) }`, `{ CACHE_MAXAGE = tostring(var.cache_max_age) }`, "(cache settings without the CDN): Terraform sets CACHE_MAXAGE"},
		{"the API around the CDN", "cdn.tf", `local.cdn ? { CDN_ORIGIN_SECRET_ARN = aws_secretsmanager_secret.cdn_origin[0].arn } : {},`, ``, "no CDN_ORIGIN_SECRET_ARN"},
		{"the CDN never invalidated", "cdn.tf", `local.cdn ? { CDN_DISTRIBUTION_ID = aws_cloudfront_distribution.main[0].id } : {},`, ``, "no CDN_DISTRIBUTION_ID"},
		{"the API invalidating", "cdn.tf", `local.cdn ? { CDN_ORIGIN_SECRET_ARN = aws_secretsmanager_secret.cdn_origin[0].arn } : {},`, `local.cdn ? { CDN_ORIGIN_SECRET_ARN = aws_secretsmanager_secret.cdn_origin[0].arn, CDN_DISTRIBUTION_ID = "E1" } : {},`, "only the worker invalidates"},
		{"a zip by default no more", "variables.tf", `default     = "Zip"`, `default     = "Image"`, `package_type is cty.StringVal("Image") by default`},
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
