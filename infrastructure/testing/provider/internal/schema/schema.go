// Package schema holds the provider schema that the stand-in serves.
//
// The JSON layout is the one `terraform providers schema -json` prints for a
// single provider (provider, resource_schemas, data_source_schemas,
// ephemeral_resource_schemas), plus a "source" object naming where it came
// from. Keeping that layout means a schema dumped from the real provider can
// be diffed against ours with ordinary JSON tools.
package schema

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// File is the committed schema file.
type File struct {
	Source                   Source             `json:"source"`
	Provider                 *Schema            `json:"provider"`
	ResourceSchemas          map[string]*Schema `json:"resource_schemas"`
	DataSourceSchemas        map[string]*Schema `json:"data_source_schemas"`
	EphemeralResourceSchemas map[string]*Schema `json:"ephemeral_resource_schemas,omitempty"`
}

// Source records the package the schema was extracted from.
type Source struct {
	Package         string   `json:"package"`
	PackageVersion  string   `json:"package_version"`
	Provider        string   `json:"provider"`
	ProviderVersion string   `json:"provider_version"`
	Generator       string   `json:"generator"`
	Notes           []string `json:"notes,omitempty"`
}

// Schema is one versioned block.
type Schema struct {
	Version int64  `json:"version"`
	Block   *Block `json:"block"`
}

// Block is a configuration block.
type Block struct {
	Attributes map[string]*Attribute   `json:"attributes,omitempty"`
	BlockTypes map[string]*NestedBlock `json:"block_types,omitempty"`
}

// Attribute is one attribute. Type uses cty's JSON type notation:
// "string", ["list","string"], ["object",{"a":"number"}], ...
type Attribute struct {
	Type      json.RawMessage `json:"type"`
	Required  bool            `json:"required,omitempty"`
	Optional  bool            `json:"optional,omitempty"`
	Computed  bool            `json:"computed,omitempty"`
	Sensitive bool            `json:"sensitive,omitempty"`
	WriteOnly bool            `json:"write_only,omitempty"`
}

// NestedBlock is a block type nested in a Block.
type NestedBlock struct {
	NestingMode string `json:"nesting_mode"` // single, list, set
	Block       *Block `json:"block"`
	MinItems    int64  `json:"min_items,omitempty"`
	MaxItems    int64  `json:"max_items,omitempty"`
}

// Parse reads a schema file.
func Parse(b []byte) (*File, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Provider == nil || f.Provider.Block == nil {
		return nil, fmt.Errorf("schema file has no provider block")
	}
	return &f, nil
}

// Proto converts the file to the protocol 5 schema response.
func (f *File) Proto() (*tfprotov5.GetProviderSchemaResponse, error) {
	resp := &tfprotov5.GetProviderSchemaResponse{
		ResourceSchemas:          map[string]*tfprotov5.Schema{},
		DataSourceSchemas:        map[string]*tfprotov5.Schema{},
		EphemeralResourceSchemas: map[string]*tfprotov5.Schema{},
		Functions:                map[string]*tfprotov5.Function{},
		ServerCapabilities:       &tfprotov5.ServerCapabilities{PlanDestroy: true},
	}
	var err error
	if resp.Provider, err = f.Provider.proto("provider"); err != nil {
		return nil, err
	}
	for _, group := range []struct {
		in  map[string]*Schema
		out map[string]*tfprotov5.Schema
	}{
		{f.ResourceSchemas, resp.ResourceSchemas},
		{f.DataSourceSchemas, resp.DataSourceSchemas},
		{f.EphemeralResourceSchemas, resp.EphemeralResourceSchemas},
	} {
		for name, s := range group.in {
			if group.out[name], err = s.proto(name); err != nil {
				return nil, err
			}
		}
	}
	return resp, nil
}

func (s *Schema) proto(path string) (*tfprotov5.Schema, error) {
	if s == nil || s.Block == nil {
		return nil, fmt.Errorf("%s: no block", path)
	}
	b, err := s.Block.proto(path)
	if err != nil {
		return nil, err
	}
	return &tfprotov5.Schema{Version: s.Version, Block: b}, nil
}

func (b *Block) proto(path string) (*tfprotov5.SchemaBlock, error) {
	out := &tfprotov5.SchemaBlock{}
	for _, name := range sortedKeys(b.Attributes) {
		a := b.Attributes[name]
		t, err := ParseType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: type %s: %w", path, name, a.Type, err)
		}
		out.Attributes = append(out.Attributes, &tfprotov5.SchemaAttribute{
			Name: name, Type: t,
			Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
		})
	}
	for _, name := range sortedKeys(b.BlockTypes) {
		nb := b.BlockTypes[name]
		inner, err := nb.Block.proto(path + "." + name)
		if err != nil {
			return nil, err
		}
		var mode tfprotov5.SchemaNestedBlockNestingMode
		switch nb.NestingMode {
		case "single":
			mode = tfprotov5.SchemaNestedBlockNestingModeSingle
		case "list":
			mode = tfprotov5.SchemaNestedBlockNestingModeList
		case "set":
			mode = tfprotov5.SchemaNestedBlockNestingModeSet
		case "map":
			mode = tfprotov5.SchemaNestedBlockNestingModeMap
		case "group":
			mode = tfprotov5.SchemaNestedBlockNestingModeGroup
		default:
			return nil, fmt.Errorf("%s.%s: unknown nesting mode %q", path, name, nb.NestingMode)
		}
		out.BlockTypes = append(out.BlockTypes, &tfprotov5.SchemaNestedBlock{
			TypeName: name, Block: inner, Nesting: mode, MinItems: nb.MinItems, MaxItems: nb.MaxItems,
		})
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseType reads a type in cty's JSON notation.
func ParseType(raw json.RawMessage) (tftypes.Type, error) {
	var prim string
	if err := json.Unmarshal(raw, &prim); err == nil {
		switch prim {
		case "string":
			return tftypes.String, nil
		case "number":
			return tftypes.Number, nil
		case "bool":
			return tftypes.Bool, nil
		case "dynamic":
			return tftypes.DynamicPseudoType, nil
		}
		return nil, fmt.Errorf("unknown primitive type %q", prim)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 2 {
		return nil, fmt.Errorf("not a type: %s", raw)
	}
	var kind string
	if err := json.Unmarshal(parts[0], &kind); err != nil {
		return nil, fmt.Errorf("not a type: %s", raw)
	}
	switch kind {
	case "list", "set", "map":
		elem, err := ParseType(parts[1])
		if err != nil {
			return nil, err
		}
		switch kind {
		case "list":
			return tftypes.List{ElementType: elem}, nil
		case "set":
			return tftypes.Set{ElementType: elem}, nil
		}
		return tftypes.Map{ElementType: elem}, nil
	case "object":
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(parts[1], &fields); err != nil {
			return nil, fmt.Errorf("object type: %w", err)
		}
		obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
		for name, ft := range fields {
			t, err := ParseType(ft)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			obj.AttributeTypes[name] = t
		}
		return obj, nil
	case "tuple":
		var elems []json.RawMessage
		if err := json.Unmarshal(parts[1], &elems); err != nil {
			return nil, fmt.Errorf("tuple type: %w", err)
		}
		tup := tftypes.Tuple{}
		for _, e := range elems {
			t, err := ParseType(e)
			if err != nil {
				return nil, err
			}
			tup.ElementTypes = append(tup.ElementTypes, t)
		}
		return tup, nil
	}
	return nil, fmt.Errorf("unknown type kind %q", kind)
}
