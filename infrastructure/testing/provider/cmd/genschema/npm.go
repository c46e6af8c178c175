package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// This file reads the two parts of a cdktf prebuilt-provider npm package:
//
//   - the jsii manifest (.jsii): every class and struct with typed properties
//     and their doc comments. It says which struct a nested block uses,
//     whether a block property holds one struct (the provider's MaxItems 1)
//     or an array, whether a property is optional, and, through the doc
//     summary "<name> block.", whether a property is a nested block or an
//     attribute.
//   - the TypeScript source of each module, which the package ships inside
//     the source map at the end of lib/<module>/index.js. It keeps what jsii
//     drops: the "// name - computed: X, optional: Y, required: Z" line that
//     cdktf writes for every attribute and block, the getter that reads an
//     attribute (getStringAttribute, getListAttribute, Fn.tolist(...) for
//     sets, ...), and the synthesizeHclAttributes tables that say whether a
//     collection is a "list", a "set", a "map", or a single "struct" block.

type assembly struct {
	Name    string               `json:"name"`
	Version string               `json:"version"`
	Types   map[string]*jsiiType `json:"types"`
}

type jsiiType struct {
	Fqn              string     `json:"fqn"`
	Kind             string     `json:"kind"` // class, interface, enum
	Name             string     `json:"name"`
	Namespace        string     `json:"namespace"`
	Base             string     `json:"base"`
	Datatype         bool       `json:"datatype"`
	Docs             jsiiDocs   `json:"docs"`
	Properties       []jsiiProp `json:"properties"`
	Initializer      *jsiiInit  `json:"initializer"`
	LocationInModule struct {
		Filename string `json:"filename"`
	} `json:"locationInModule"`
}

type jsiiInit struct {
	Parameters []struct {
		Name string  `json:"name"`
		Type typeRef `json:"type"`
	} `json:"parameters"`
}

type jsiiDocs struct {
	Summary string `json:"summary"`
	Remarks string `json:"remarks"`
}

type jsiiProp struct {
	Name     string   `json:"name"`
	Docs     jsiiDocs `json:"docs"`
	Optional bool     `json:"optional"`
	Static   bool     `json:"static"`
	Type     typeRef  `json:"type"`
}

type typeRef struct {
	Primitive  string `json:"primitive,omitempty"`
	Fqn        string `json:"fqn,omitempty"`
	Collection *struct {
		Kind        string  `json:"kind"` // array, map
		Elementtype typeRef `json:"elementtype"`
	} `json:"collection,omitempty"`
	Union *struct {
		Types []typeRef `json:"types"`
	} `json:"union,omitempty"`
}

func (t typeRef) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

// strip removes cdktf.IResolvable from a union: cdktf adds it to every
// boolean and every collection so tokens can stand in for values.
func (t typeRef) strip() typeRef {
	if t.Union == nil {
		return t
	}
	var rest []typeRef
	for _, u := range t.Union.Types {
		if u.Fqn != "cdktf.IResolvable" {
			rest = append(rest, u)
		}
	}
	if len(rest) == 1 {
		return rest[0].strip()
	}
	return t
}

var (
	// "Represents a {@link <url>/docs/resources/lambda_function aws_lambda_function}."
	representsRE = regexp.MustCompile(`/docs/(resources|data-sources|ephemeral-resources)/[a-z0-9_]+ (aws_[a-z0-9_]+)\}`)
	// Any doc link names the provider version: .../hashicorp/aws/6.25.0/docs...
	providerVersionRE = regexp.MustCompile(`/hashicorp/aws/([0-9]+\.[0-9]+\.[0-9]+)/docs`)
	// A property's doc link ends with "#snake_name ClassName#snake_name}".
	anchorRE = regexp.MustCompile(`#([a-z0-9_]+) [A-Za-z0-9]+#[a-z0-9_]+\}`)
)

func loadAssembly(dir string) (*assembly, error) {
	f, err := os.Open(filepath.Join(dir, ".jsii"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var a assembly
	if err := json.NewDecoder(f).Decode(&a); err != nil {
		return nil, fmt.Errorf("reading jsii manifest: %w", err)
	}
	return &a, nil
}

// snakeName is the Terraform name of a config property, read from its doc link.
func (p jsiiProp) snakeName() string {
	for _, s := range []string{p.Docs.Summary, p.Docs.Remarks} {
		if m := anchorRE.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}

// isBlock: cdktf documents nested blocks as "<name> block." and attributes
// with the provider's own description (or none).
func (p jsiiProp) isBlock(snake string) bool {
	return p.Docs.Summary == snake+" block."
}

// tsModule is the TypeScript source of one module of the package.
type tsModule struct {
	name    string
	classes map[string]string             // class name -> body
	hcl     map[string]map[string]hclAttr // struct or class name -> synthesizeHcl table
}

type hclAttr struct {
	IsBlock bool
	Type    string // simple, list, set, map, struct
	Storage string
}

// member is one attribute or block of a class, from its flags comment.
type member struct {
	Snake                        string
	Computed, Optional, Required bool
	Getter                       string // the expression the getter returns
	Ctor                         string // class constructed for a complex member
	CtorArgs                     string
}

var (
	classRE   = regexp.MustCompile(`(?m)^export class (\w+) extends [\w.]+ \{\n`)
	hclFuncRE = regexp.MustCompile(`(?m)^export function \w+ToHclTerraform\(struct\?: (?:\w+OutputReference \| )?(\w+)(?: \| cdktf\.IResolvable)?\): any \{\n`)
	hclAttrRE = regexp.MustCompile(`(?m)^\s*"?(\w+)"?: \{\n\s*value: .*\n\s*isBlock: (true|false),\n\s*type: "(\w+)",\n\s*storageClassType: "(\w+)",\n`)
	flagsRE   = regexp.MustCompile(`(?m)^\s*// (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\s*$`)
	getterRE  = regexp.MustCompile(`public get \w+\(\)[^{]*\{\n\s*return (.+?);\n`)
	ctorRE    = regexp.MustCompile(`= new ([\w.]+)\(this, "(\w+)"(.*?)\);`)
)

func loadModule(pkgDir, tsPath string) (*tsModule, error) {
	// src/lambda-function/index.ts -> lib/lambda-function/index.js
	rel := strings.TrimPrefix(tsPath, "src/")
	rel = strings.TrimSuffix(rel, ".ts") + ".js"
	js, err := os.ReadFile(filepath.Join(pkgDir, "lib", rel))
	if err != nil {
		return nil, err
	}
	const marker = "//# sourceMappingURL=data:application/json;base64,"
	i := strings.LastIndex(string(js), marker)
	if i < 0 {
		return nil, fmt.Errorf("lib/%s: no inline source map", rel)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(js[i+len(marker):])))
	if err != nil {
		return nil, fmt.Errorf("lib/%s: source map: %w", rel, err)
	}
	var sm struct {
		SourcesContent []string `json:"sourcesContent"`
	}
	if err := json.Unmarshal(raw, &sm); err != nil || len(sm.SourcesContent) != 1 {
		return nil, fmt.Errorf("lib/%s: source map has no single source (%v)", rel, err)
	}
	src := sm.SourcesContent[0]
	m := &tsModule{name: rel, classes: map[string]string{}, hcl: map[string]map[string]hclAttr{}}
	for _, loc := range classRE.FindAllStringSubmatchIndex(src, -1) {
		name := src[loc[2]:loc[3]]
		body := src[loc[1]:]
		if end := strings.Index(body, "\n}\n"); end >= 0 {
			body = body[:end]
		}
		m.classes[name] = body
		if j := strings.Index(body, "synthesizeHclAttributes()"); j >= 0 {
			m.hcl[name] = parseHCLTable(body[j:])
		}
	}
	for _, loc := range hclFuncRE.FindAllStringSubmatchIndex(src, -1) {
		name := src[loc[2]:loc[3]]
		body := src[loc[1]:]
		if end := strings.Index(body, "\n}\n"); end >= 0 {
			body = body[:end]
		}
		m.hcl[name] = parseHCLTable(body)
	}
	return m, nil
}

func parseHCLTable(body string) map[string]hclAttr {
	out := map[string]hclAttr{}
	for _, mm := range hclAttrRE.FindAllStringSubmatch(body, -1) {
		out[mm[1]] = hclAttr{IsBlock: mm[2] == "true", Type: mm[3], Storage: mm[4]}
	}
	return out
}

// members lists a class's attributes and blocks in source order.
func (m *tsModule) members(class string) (map[string]*member, bool) {
	body, ok := m.classes[class]
	if !ok {
		return nil, false
	}
	out := map[string]*member{}
	locs := flagsRE.FindAllStringSubmatchIndex(body, -1)
	for i, loc := range locs {
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		chunk := body[loc[1]:end]
		mem := &member{
			Snake:    body[loc[2]:loc[3]],
			Computed: body[loc[4]:loc[5]] == "true",
			Optional: body[loc[6]:loc[7]] == "true",
			Required: body[loc[8]:loc[9]] == "true",
		}
		if g := getterRE.FindStringSubmatch(chunk); g != nil {
			mem.Getter = g[1]
		}
		if c := ctorRE.FindStringSubmatch(chunk); c != nil && c[2] == mem.Snake {
			mem.Ctor, mem.CtorArgs = c[1], strings.TrimSpace(strings.TrimPrefix(c[3], ","))
		}
		out[mem.Snake] = mem
	}
	return out, true
}
