// Command genschema extracts the hashicorp/aws provider schema for the types
// a Terraform configuration uses from a cdktf prebuilt-provider npm package,
// and writes it in the layout of `terraform providers schema -json`.
//
//	go run ./cmd/genschema -package DIR -scan ../.. -types-file schema/types.txt \
//	    -overlay schema/overlay.json -out schema/aws-6.x.json
//
// DIR is the unpacked npm package (the folder holding .jsii and lib/).
// ../../regen-schema.sh downloads the pinned package and runs this.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/icy-morning/icy-morning/infrastructure/testing/provider/internal/schema"
	"github.com/icy-morning/icy-morning/infrastructure/testing/provider/internal/tfscan"
)

var keepGoing bool

func main() {
	pkgDir := flag.String("package", "", "unpacked npm package directory (holds .jsii and lib/)")
	scan := flag.String("scan", "", "directory whose .tf/.tftest.hcl files are scanned for aws types (recursive)")
	typesFile := flag.String("types-file", "", "file of extra types, one resource.aws_x / data.aws_x a line")
	types := flag.String("types", "", "extra types, comma separated (resource.aws_x,data.aws_y)")
	overlayPath := flag.String("overlay", "", "overlay JSON with the facts cdktf does not record (sensitive, write-only, ...)")
	out := flag.String("out", "", "output schema JSON file")
	flag.BoolVar(&keepGoing, "keep-going", false, "report types that fail to extract and leave them out (to survey the whole package)")
	flag.Parse()
	if *pkgDir == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*pkgDir, *scan, *typesFile, *types, *overlayPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}

func run(pkgDir, scan, typesFile, typesFlag, overlayPath, out string) error {
	want := map[tfscan.Type]string{} // type -> where it was asked for
	if scan != "" {
		u, err := tfscan.Scan(scan)
		if err != nil {
			return err
		}
		if len(u.Functions) > 0 {
			var names []string
			for f, files := range u.Functions {
				names = append(names, fmt.Sprintf("provider::aws::%s (%s)", f, strings.Join(files, ", ")))
			}
			sort.Strings(names)
			return fmt.Errorf("the configuration calls provider-defined functions, which the npm package does not describe and the stand-in does not serve: %s", strings.Join(names, "; "))
		}
		for t, files := range u.Types {
			want[t] = files[0]
		}
	}
	if typesFile != "" {
		ts, err := tfscan.ReadTypeList(typesFile)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if _, ok := want[t]; !ok {
				want[t] = typesFile
			}
		}
	}
	for _, s := range strings.Split(typesFlag, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		t, err := tfscan.ParseType(s)
		if err != nil {
			return err
		}
		want[t] = "-types"
	}
	var ov overlay
	if overlayPath != "" {
		b, err := os.ReadFile(overlayPath)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &ov); err != nil {
			return fmt.Errorf("%s: %w", overlayPath, err)
		}
	}

	a, err := loadAssembly(pkgDir)
	if err != nil {
		return err
	}
	g := newGen(pkgDir, a)
	f := &schema.File{
		Source: schema.Source{
			Package: a.Name, PackageVersion: a.Version,
			Provider: "hashicorp/aws", ProviderVersion: g.providerVersion,
			Generator: "infrastructure/testing/provider/cmd/genschema",
			Notes:     ov.Notes,
		},
		ResourceSchemas:   map[string]*schema.Schema{},
		DataSourceSchemas: map[string]*schema.Schema{},
	}
	if g.providerVersion == "" {
		return errors.New("jsii manifest: no provider version in any doc link")
	}
	if f.Provider, err = g.providerSchema(ov.ProviderMaxItems); err != nil {
		return fmt.Errorf("provider: %w", err)
	}

	var ordered []tfscan.Type
	for t := range want {
		ordered = append(ordered, t)
	}
	tfscan.SortTypes(ordered)
	var missing []string
	for _, t := range ordered {
		cls, ok := g.classes[t]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (used in %s)", t, want[t]))
			continue
		}
		s, err := g.typeSchema(cls)
		if err != nil {
			if keepGoing {
				fmt.Fprintf(os.Stderr, "genschema: skipped %s: %v\n", t, err)
				continue
			}
			return fmt.Errorf("%s: %w", t, err)
		}
		switch t.Kind {
		case tfscan.Resource:
			f.ResourceSchemas[t.Name] = s
		case tfscan.DataSource:
			f.DataSourceSchemas[t.Name] = s
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s %s does not describe these types (misspelt, too new, or a kind cdktf does not generate such as ephemeral resources):\n  %s",
			a.Name, a.Version, strings.Join(missing, "\n  "))
	}
	if err := ov.apply(f); err != nil {
		return err
	}
	if _, err := f.Proto(); err != nil { // the provider must be able to serve it
		return fmt.Errorf("generated schema does not convert: %w", err)
	}
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genschema: wrote %s: hashicorp/aws %s from %s@%s, %d resources, %d data sources\n",
		out, g.providerVersion, a.Name, a.Version, len(f.ResourceSchemas), len(f.DataSourceSchemas))
	return nil
}

// overlay holds facts the npm package does not record, transcribed by hand
// (see README.md): which attributes are sensitive or write-only, and the
// provider block's MaxItems (cdktf turns every provider block into an array).
type overlay struct {
	Notes            []string            `json:"notes"`
	Sensitive        map[string][]string `json:"sensitive"`  // "resource.aws_x" -> attribute paths
	WriteOnly        map[string][]string `json:"write_only"` // same
	ProviderMaxItems map[string]int64    `json:"provider_max_items"`
}

func (ov *overlay) apply(f *schema.File) error {
	lookup := func(key string) *schema.Schema {
		kind, name, _ := strings.Cut(key, ".")
		switch kind {
		case "resource":
			return f.ResourceSchemas[name]
		case "data":
			return f.DataSourceSchemas[name]
		case "provider":
			return f.Provider
		}
		return nil
	}
	set := func(m map[string][]string, what string, fn func(*schema.Attribute)) error {
		for key, paths := range m {
			s := lookup(key)
			if s == nil {
				continue // type not used: nothing to mark
			}
			for _, p := range paths {
				a := findAttr(s.Block, p)
				if a == nil {
					return fmt.Errorf("overlay: %s %s.%s: no such attribute in the extracted schema", what, key, p)
				}
				fn(a)
			}
		}
		return nil
	}
	if err := set(ov.Sensitive, "sensitive", func(a *schema.Attribute) { a.Sensitive = true }); err != nil {
		return err
	}
	if err := set(ov.WriteOnly, "write_only", func(a *schema.Attribute) { a.WriteOnly = true; a.Sensitive = true }); err != nil {
		return err
	}
	// The provider marks its write-only arguments with a "_wo" suffix; make
	// sure none goes unmarked, so a new one is noticed when regenerating.
	var unmarked []string
	walk := func(prefix string, s *schema.Schema) {
		walkAttrs(s.Block, "", func(path string, a *schema.Attribute) {
			if strings.HasSuffix(path, "_wo") && (a.Optional || a.Required) && !a.WriteOnly {
				unmarked = append(unmarked, prefix+"."+path)
			}
		})
	}
	for n, s := range f.ResourceSchemas {
		walk("resource."+n, s)
	}
	for n, s := range f.DataSourceSchemas {
		walk("data."+n, s)
	}
	if len(unmarked) > 0 {
		sort.Strings(unmarked)
		return fmt.Errorf("overlay: these look write-only (\"_wo\") but are not listed under write_only: %s", strings.Join(unmarked, ", "))
	}
	return nil
}

func findAttr(b *schema.Block, path string) *schema.Attribute {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		return b.Attributes[head]
	}
	if nb := b.BlockTypes[head]; nb != nil {
		return findAttr(nb.Block, rest)
	}
	return nil
}

func walkAttrs(b *schema.Block, prefix string, fn func(string, *schema.Attribute)) {
	for n, a := range b.Attributes {
		fn(prefix+n, a)
	}
	for n, nb := range b.BlockTypes {
		walkAttrs(nb.Block, prefix+n+".", fn)
	}
}
