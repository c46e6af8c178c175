// Package tfscan finds the hashicorp/aws resource, data source and
// ephemeral resource types that a Terraform configuration uses.
//
// It reads the text of .tf, .tftest.hcl and .tfmock.hcl files rather than
// parsing HCL: a block header is always `resource "TYPE" "NAME" {` (or data,
// ephemeral), and mock_resource/mock_data blocks name a type the same way.
package tfscan

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Kind is the schema family of a type.
type Kind string

// The kinds of types a configuration can use.
const (
	Resource          Kind = "resource"
	DataSource        Kind = "data"
	EphemeralResource Kind = "ephemeral"
)

// Type is one type used by a configuration, e.g. {Resource, "aws_vpc"}.
type Type struct {
	Kind Kind
	Name string
}

func (t Type) String() string { return string(t.Kind) + "." + t.Name }

// Usage is what a set of configuration files use from the provider.
type Usage struct {
	Types map[Type][]string // type -> files (relative paths) that use it
	// Functions are provider-defined functions called as provider::aws::NAME.
	Functions map[string][]string
}

var (
	headerRE   = regexp.MustCompile(`^\s*(resource|data|ephemeral|mock_resource|mock_data)\s+"(aws_[a-z0-9_]+)"`)
	functionRE = regexp.MustCompile(`provider::aws::([a-z0-9_]+)`)
)

// ParseType reads "resource.aws_vpc", "data.aws_region" or "ephemeral.aws_x".
func ParseType(s string) (Type, error) {
	kind, name, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok || !strings.HasPrefix(name, "aws_") {
		return Type{}, fmt.Errorf("type %q: want resource.aws_NAME, data.aws_NAME or ephemeral.aws_NAME", s)
	}
	switch Kind(kind) {
	case Resource, DataSource, EphemeralResource:
		return Type{Kind(kind), name}, nil
	}
	return Type{}, fmt.Errorf("type %q: unknown kind %q", s, kind)
}

// Scan walks root for *.tf, *.tftest.hcl and *.tfmock.hcl files, skipping .terraform
// directories, and records every aws type and provider function they use.
func Scan(root string) (*Usage, error) {
	u := &Usage{Types: map[Type][]string{}, Functions: map[string][]string{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".terraform" || (d.Name() != "." && strings.HasPrefix(d.Name(), ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".tf") && !strings.HasSuffix(path, ".tftest.hcl") && !strings.HasSuffix(path, ".tfmock.hcl") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		return u.scanFile(path, rel)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (u *Usage) scanFile(path, rel string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := headerRE.FindStringSubmatch(line); m != nil {
			kind := Kind(m[1])
			switch m[1] {
			case "mock_resource":
				kind = Resource
			case "mock_data":
				kind = DataSource
			}
			t := Type{kind, m[2]}
			u.Types[t] = appendOnce(u.Types[t], rel)
		}
		for _, m := range functionRE.FindAllStringSubmatch(line, -1) {
			u.Functions[m[1]] = appendOnce(u.Functions[m[1]], rel)
		}
	}
	return sc.Err()
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// Sorted returns the types in a stable order.
func (u *Usage) Sorted() []Type {
	out := make([]Type, 0, len(u.Types))
	for t := range u.Types {
		out = append(out, t)
	}
	SortTypes(out)
	return out
}

// SortTypes orders types by kind, then name.
func SortTypes(ts []Type) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Kind != ts[j].Kind {
			return ts[i].Kind < ts[j].Kind
		}
		return ts[i].Name < ts[j].Name
	})
}

// ReadTypeList reads a file of types, one "kind.aws_name" a line; blank lines
// and lines starting with # are ignored.
func ReadTypeList(path string) ([]Type, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Type
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t, err := ParseType(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, t)
	}
	return out, nil
}
