package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/icy-morning/icy-morning/infrastructure/testing/provider/internal/schema"
	"github.com/icy-morning/icy-morning/infrastructure/testing/provider/internal/tfscan"
)

const regenHint = "run `bash infrastructure/testing/regen-schema.sh` (see infrastructure/testing/README.md) and commit schema/aws-6.x.json"

func loadFile(t *testing.T) *schema.File {
	t.Helper()
	f, err := schema.Parse(schemaJSON)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSchemaCoversConfiguration fails when infrastructure/ uses a type the
// committed schema lacks: terraform validate would reject it as unknown.
func TestSchemaCoversConfiguration(t *testing.T) {
	f := loadFile(t)
	root := filepath.Join("..", "..")
	u, err := tfscan.Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Types) == 0 {
		t.Fatalf("found no aws types under %s", root)
	}
	var missing []string
	for _, typ := range u.Sorted() {
		var ok bool
		switch typ.Kind {
		case tfscan.Resource:
			_, ok = f.ResourceSchemas[typ.Name]
		case tfscan.DataSource:
			_, ok = f.DataSourceSchemas[typ.Name]
		case tfscan.EphemeralResource:
			_, ok = f.EphemeralResourceSchemas[typ.Name]
		}
		if !ok {
			missing = append(missing, typ.String()+" ("+strings.Join(u.Types[typ], ", ")+")")
		}
	}
	if len(missing) > 0 {
		t.Errorf("schema/aws-6.x.json lacks types the configuration uses:\n  %s\n%s", strings.Join(missing, "\n  "), regenHint)
	}
	for fn, files := range u.Functions {
		t.Errorf("provider::aws::%s is used (%s) but the stand-in serves no provider functions", fn, strings.Join(files, ", "))
	}
}

func TestSchemaSource(t *testing.T) {
	f := loadFile(t)
	if f.Source.Package != "@cdktf/provider-aws" || f.Source.PackageVersion == "" {
		t.Errorf("source package = %q %q", f.Source.Package, f.Source.PackageVersion)
	}
	if !strings.HasPrefix(f.Source.ProviderVersion, "6.") {
		t.Errorf("provider version %q is not 6.x", f.Source.ProviderVersion)
	}
}

// TestFidelity checks the schema against facts of the real hashicorp/aws
// 6.x provider, as its documentation states them (see README.md).
func TestFidelity(t *testing.T) {
	f := loadFile(t)
	attr := func(kind, typ, path string) *schema.Attribute {
		t.Helper()
		var s *schema.Schema
		switch kind {
		case "resource":
			s = f.ResourceSchemas[typ]
		case "data":
			s = f.DataSourceSchemas[typ]
		case "provider":
			s = f.Provider
		}
		if s == nil {
			t.Fatalf("%s %s: not in schema", kind, typ)
		}
		parts := strings.Split(path, ".")
		b := s.Block
		for _, p := range parts[:len(parts)-1] {
			nb := b.BlockTypes[p]
			if nb == nil {
				t.Fatalf("%s %s: no block %s", kind, typ, p)
			}
			b = nb.Block
		}
		a := b.Attributes[parts[len(parts)-1]]
		if a == nil {
			t.Fatalf("%s %s: no attribute %s", kind, typ, path)
		}
		return a
	}
	block := func(kind, typ, path string) *schema.NestedBlock {
		t.Helper()
		var s *schema.Schema
		switch kind {
		case "resource":
			s = f.ResourceSchemas[typ]
		case "data":
			s = f.DataSourceSchemas[typ]
		case "provider":
			s = f.Provider
		}
		b := s.Block
		var nb *schema.NestedBlock
		for _, p := range strings.Split(path, ".") {
			nb = b.BlockTypes[p]
			if nb == nil {
				t.Fatalf("%s %s: no block %s", kind, typ, path)
			}
			b = nb.Block
		}
		return nb
	}
	type flags struct{ req, opt, comp, sens, wo bool }
	attrs := []struct {
		kind, typ, path, typeJSON string
		want                      flags
	}{
		{"resource", "aws_lambda_function", "function_name", `"string"`, flags{req: true}},
		{"resource", "aws_lambda_function", "role", `"string"`, flags{req: true}},
		{"resource", "aws_lambda_function", "timeout", `"number"`, flags{opt: true}},
		{"resource", "aws_lambda_function", "arn", `"string"`, flags{comp: true}},
		{"resource", "aws_lambda_function", "architectures", `["list","string"]`, flags{opt: true, comp: true}},
		{"resource", "aws_lambda_function", "tags", `["map","string"]`, flags{opt: true}},
		{"resource", "aws_lambda_function", "vpc_config.subnet_ids", `["set","string"]`, flags{req: true}},
		{"resource", "aws_lambda_function", "environment.variables", `["map","string"]`, flags{opt: true}},
		{"resource", "aws_db_instance", "password", `"string"`, flags{opt: true, sens: true}},
		{"resource", "aws_db_instance", "password_wo", `"string"`, flags{opt: true, sens: true, wo: true}},
		{"resource", "aws_db_instance", "instance_class", `"string"`, flags{req: true}},
		{"resource", "aws_db_instance", "allocated_storage", `"number"`, flags{opt: true, comp: true}},
		{"resource", "aws_db_instance", "listener_endpoint", `["list",["object",{"address":"string","hosted_zone_id":"string","port":"number"}]]`, flags{comp: true}},
		{"resource", "aws_security_group", "ingress", `["set",["object",{"cidr_blocks":["list","string"],"description":"string","from_port":"number","ipv6_cidr_blocks":["list","string"],"prefix_list_ids":["list","string"],"protocol":"string","security_groups":["set","string"],"self":"bool","to_port":"number"}]]`, flags{opt: true, comp: true}},
		{"resource", "aws_sqs_queue", "name", `"string"`, flags{opt: true, comp: true}},
		{"resource", "aws_secretsmanager_secret_version", "secret_string", `"string"`, flags{opt: true, sens: true}},
		{"data", "aws_availability_zones", "names", `["list","string"]`, flags{comp: true}},
		{"data", "aws_iam_policy_document", "json", `"string"`, flags{comp: true}},
		{"data", "aws_secretsmanager_random_password", "random_password", `"string"`, flags{comp: true, sens: true}},
		{"provider", "", "region", `"string"`, flags{opt: true}},
		{"provider", "", "default_tags.tags", `["map","string"]`, flags{opt: true}},
	}
	for _, c := range attrs {
		a := attr(c.kind, c.typ, c.path)
		var got, want any
		_ = json.Unmarshal(a.Type, &got)
		_ = json.Unmarshal([]byte(c.typeJSON), &want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s %s.%s: type %s, want %s", c.kind, c.typ, c.path, gb, wb)
		}
		g := flags{a.Required, a.Optional, a.Computed, a.Sensitive, a.WriteOnly}
		if g != c.want {
			t.Errorf("%s %s.%s: flags %+v, want %+v", c.kind, c.typ, c.path, g, c.want)
		}
	}
	blocks := []struct {
		kind, typ, path, mode string
		min, max              int64
	}{
		{"resource", "aws_lambda_function", "vpc_config", "list", 0, 1},
		{"resource", "aws_lambda_function", "environment", "list", 0, 1},
		{"resource", "aws_lambda_function", "dead_letter_config", "list", 0, 1},
		{"resource", "aws_lambda_function", "timeouts", "single", 0, 0},
		{"resource", "aws_db_proxy", "auth", "set", 0, 0},
		{"data", "aws_iam_policy_document", "statement", "list", 0, 0},
		{"data", "aws_iam_policy_document", "statement.principals", "set", 0, 0},
		{"data", "aws_iam_policy_document", "statement.condition", "set", 0, 0},
		{"provider", "", "default_tags", "list", 0, 1},
		{"provider", "", "assume_role", "list", 0, 0},
	}
	for _, c := range blocks {
		nb := block(c.kind, c.typ, c.path)
		if nb.NestingMode != c.mode || nb.MinItems != c.min || nb.MaxItems != c.max {
			t.Errorf("%s %s block %s: %s min %d max %d, want %s min %d max %d",
				c.kind, c.typ, c.path, nb.NestingMode, nb.MinItems, nb.MaxItems, c.mode, c.min, c.max)
		}
	}
	// aws_security_group.ingress is an attribute (set of objects) that may be
	// written as blocks, not a nested block type.
	if _, isBlock := f.ResourceSchemas["aws_security_group"].Block.BlockTypes["ingress"]; isBlock {
		t.Error("aws_security_group.ingress must be an attribute, not a block type")
	}
}

func TestServer(t *testing.T) {
	s, err := newServer(schemaJSON)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resp, err := s.GetProviderSchema(ctx, &tfprotov5.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.ResourceSchemas) == 0 || resp.ResourceSchemas["aws_lambda_function"] == nil || resp.Provider == nil {
		t.Fatalf("schema response lacks aws_lambda_function or the provider: %d resources", len(resp.ResourceSchemas))
	}
	md, _ := s.GetMetadata(ctx, &tfprotov5.GetMetadataRequest{})
	if len(md.Resources) != len(resp.ResourceSchemas) || len(md.DataSources) != len(resp.DataSourceSchemas) {
		t.Errorf("metadata lists %d/%d types, schema %d/%d", len(md.Resources), len(md.DataSources), len(resp.ResourceSchemas), len(resp.DataSourceSchemas))
	}

	// Anything that would reach AWS is refused with a clear message.
	wantRefused := func(what string, diags []*tfprotov5.Diagnostic) {
		t.Helper()
		if len(diags) != 1 || diags[0].Severity != tfprotov5.DiagnosticSeverityError || diags[0].Summary != notReal {
			t.Errorf("%s: diagnostics %+v, want one error %q", what, diags, notReal)
		}
	}
	cr, _ := s.ConfigureProvider(ctx, &tfprotov5.ConfigureProviderRequest{})
	wantRefused("ConfigureProvider", cr.Diagnostics)
	pr, _ := s.PlanResourceChange(ctx, &tfprotov5.PlanResourceChangeRequest{TypeName: "aws_vpc"})
	wantRefused("PlanResourceChange", pr.Diagnostics)
	rr, _ := s.ReadResource(ctx, &tfprotov5.ReadResourceRequest{TypeName: "aws_vpc"})
	wantRefused("ReadResource", rr.Diagnostics)
	ar, _ := s.ApplyResourceChange(ctx, &tfprotov5.ApplyResourceChangeRequest{TypeName: "aws_vpc"})
	wantRefused("ApplyResourceChange", ar.Diagnostics)
	dr, _ := s.ReadDataSource(ctx, &tfprotov5.ReadDataSourceRequest{TypeName: "aws_region"})
	wantRefused("ReadDataSource", dr.Diagnostics)

	// Stored state decodes with the schema (terraform test keeps state
	// between run blocks).
	ur, _ := s.UpgradeResourceState(ctx, &tfprotov5.UpgradeResourceStateRequest{
		TypeName: "aws_sqs_queue",
		RawState: &tfprotov5.RawState{JSON: []byte(`{"name":"q","tags":{"a":"b"}}`)},
	})
	if len(ur.Diagnostics) > 0 || ur.UpgradedState == nil {
		t.Fatalf("UpgradeResourceState: %+v", ur.Diagnostics)
	}
	v, err := ur.UpgradedState.Unmarshal(resp.ResourceSchemas["aws_sqs_queue"].ValueType())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := m["name"].As(&name); err != nil || name != "q" {
		t.Errorf("name = %q, %v", name, err)
	}
}

// TestTypesList: every type schema/types.txt asks for is in the schema.
func TestTypesList(t *testing.T) {
	ts, err := tfscan.ReadTypeList(filepath.Join("schema", "types.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f := loadFile(t)
	for _, typ := range ts {
		if _, ok := map[tfscan.Kind]map[string]*schema.Schema{
			tfscan.Resource: f.ResourceSchemas, tfscan.DataSource: f.DataSourceSchemas,
		}[typ.Kind][typ.Name]; !ok {
			t.Errorf("%s is in schema/types.txt but not in schema/aws-6.x.json; %s", typ, regenHint)
		}
	}
}
