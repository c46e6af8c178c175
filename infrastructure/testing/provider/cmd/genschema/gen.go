package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/icy-morning/icy-morning/infrastructure/testing/provider/internal/schema"
	"github.com/icy-morning/icy-morning/infrastructure/testing/provider/internal/tfscan"
)

type gen struct {
	pkgDir          string
	a               *assembly
	classes         map[tfscan.Type]*jsiiType
	provider        *jsiiType
	providerVersion string
	modules         map[string]*tsModule
}

func newGen(pkgDir string, a *assembly) *gen {
	g := &gen{pkgDir: pkgDir, a: a, classes: map[tfscan.Type]*jsiiType{}, modules: map[string]*tsModule{}}
	for _, t := range a.Types {
		if t.Kind != "class" {
			continue
		}
		if g.providerVersion == "" {
			if m := providerVersionRE.FindStringSubmatch(t.Docs.Summary); m != nil {
				g.providerVersion = m[1]
			}
		}
		if t.Base == "cdktf.TerraformProvider" {
			g.provider = t
			continue
		}
		m := representsRE.FindStringSubmatch(t.Docs.Summary)
		if m == nil || !strings.HasPrefix(t.Docs.Summary, "Represents a ") {
			continue
		}
		var kind tfscan.Kind
		switch {
		case m[1] == "resources" && t.Base == "cdktf.TerraformResource":
			kind = tfscan.Resource
		case m[1] == "data-sources" && t.Base == "cdktf.TerraformDataSource":
			kind = tfscan.DataSource
		default:
			continue
		}
		g.classes[tfscan.Type{Kind: kind, Name: m[2]}] = t
	}
	return g
}

func (g *gen) module(cls *jsiiType) (*tsModule, error) {
	file := cls.LocationInModule.Filename
	if m, ok := g.modules[file]; ok {
		return m, nil
	}
	m, err := loadModule(g.pkgDir, file)
	if err != nil {
		return nil, err
	}
	g.modules[file] = m
	return m, nil
}

// configInterface is the struct a class's constructor takes as "config".
func (g *gen) configInterface(cls *jsiiType) (*jsiiType, error) {
	if cls.Initializer != nil {
		for _, p := range cls.Initializer.Parameters {
			if p.Name == "config" {
				if it := g.a.Types[p.Type.Fqn]; it != nil {
					return it, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("class %s: no config struct in its constructor", cls.Fqn)
}

var tfTypeRE = regexp.MustCompile(`public static readonly tfResourceType = "(aws_[a-z0-9_]+)";`)

func (g *gen) typeSchema(cls *jsiiType) (*schema.Schema, error) {
	mod, err := g.module(cls)
	if err != nil {
		return nil, err
	}
	cfg, err := g.configInterface(cls)
	if err != nil {
		return nil, err
	}
	body, ok := mod.classes[cls.Name]
	if !ok {
		return nil, fmt.Errorf("%s: class %s not in the TypeScript source", mod.name, cls.Name)
	}
	if m := tfTypeRE.FindStringSubmatch(body); m == nil {
		return nil, fmt.Errorf("%s: class %s has no tfResourceType", mod.name, cls.Name)
	}
	members, _ := mod.members(cls.Name)
	b, err := g.block(mod, cls.Name, cfg, members, mod.hcl[cls.Name], nil)
	if err != nil {
		return nil, err
	}
	return &schema.Schema{Version: 0, Block: b}, nil
}

func (g *gen) providerSchema(maxItems map[string]int64) (*schema.Schema, error) {
	if g.provider == nil {
		return nil, fmt.Errorf("no provider class in the jsii manifest")
	}
	mod, err := g.module(g.provider)
	if err != nil {
		return nil, err
	}
	cfg, err := g.configInterface(g.provider)
	if err != nil {
		return nil, err
	}
	members, _ := mod.members(g.provider.Name)
	// "alias" is Terraform's meta-argument, which cdktf adds to the provider
	// config; it is not part of the provider's schema.
	delete(members, "alias")
	b, err := g.block(mod, g.provider.Name, cfg, members, mod.hcl[g.provider.Name], map[string]bool{"alias": true})
	if err != nil {
		return nil, err
	}
	for name, n := range maxItems {
		nb := b.BlockTypes[name]
		if nb == nil {
			return nil, fmt.Errorf("overlay provider_max_items: no provider block %q", name)
		}
		nb.MaxItems = n
	}
	return &schema.Schema{Version: 0, Block: b}, nil
}

// block builds the schema of one block from its config struct (iface, may be
// nil for computed-only objects), the flags of its class's members (nil for
// the provider's nested structs, which have no class) and its HCL table.
func (g *gen) block(mod *tsModule, where string, iface *jsiiType, members map[string]*member, hcl map[string]hclAttr, skip map[string]bool) (*schema.Block, error) {
	b := &schema.Block{Attributes: map[string]*schema.Attribute{}, BlockTypes: map[string]*schema.NestedBlock{}}
	props := map[string]*jsiiProp{}
	if iface != nil {
		for i := range iface.Properties {
			p := &iface.Properties[i]
			snake := p.snakeName()
			if snake == "" {
				return nil, fmt.Errorf("%s.%s: no Terraform name in its doc link", iface.Name, p.Name)
			}
			if skip[snake] {
				continue
			}
			props[snake] = p
		}
	}
	names := map[string]bool{}
	for n := range props {
		names[n] = true
	}
	for n := range members {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		p, mem := props[name], members[name]
		path := where + "." + name
		if p == nil && !(mem.Computed && !mem.Optional && !mem.Required) {
			return nil, fmt.Errorf("%s: configurable in the source but not in the config struct", path)
		}
		if p != nil && mem == nil && members != nil {
			return nil, fmt.Errorf("%s: in the config struct but has no flags comment", path)
		}
		if p != nil && mem != nil && p.Optional == mem.Required {
			return nil, fmt.Errorf("%s: jsii optional=%v disagrees with required=%v in the source", path, p.Optional, mem.Required)
		}
		if p != nil && p.isBlock(name) {
			nb, err := g.nestedBlock(mod, path, p, mem, hcl[name])
			if err != nil {
				return nil, err
			}
			b.BlockTypes[name] = nb
			continue
		}
		a := &schema.Attribute{}
		if mem != nil {
			a.Required, a.Optional, a.Computed = mem.Required, mem.Optional, mem.Computed
		} else {
			a.Required, a.Optional = !p.Optional, p.Optional
		}
		t, err := g.attrType(mod, path, p, mem, hcl)
		if err != nil {
			return nil, err
		}
		a.Type = t
		b.Attributes[name] = a
	}
	return b, nil
}

func (g *gen) nestedBlock(mod *tsModule, path string, p *jsiiProp, mem *member, h hclAttr) (*schema.NestedBlock, error) {
	t := p.Type.strip()
	single := t.Fqn != ""
	elem := t
	if !single {
		if t.Collection == nil || t.Collection.Kind != "array" || t.Collection.Elementtype.Fqn == "" {
			return nil, fmt.Errorf("%s: block of unexpected type %s", path, t)
		}
		elem = t.Collection.Elementtype
	}
	st := g.a.Types[elem.Fqn]
	if st == nil || st.Kind != "interface" {
		return nil, fmt.Errorf("%s: block struct %s not in the manifest", path, elem.Fqn)
	}
	nb := &schema.NestedBlock{}
	switch h.Type {
	case "struct":
		if !single {
			return nil, fmt.Errorf("%s: single block with an array type", path)
		}
		nb.NestingMode = "single"
	case "list", "set":
		nb.NestingMode = h.Type
		if single {
			nb.MaxItems = 1
		}
	default:
		return nil, fmt.Errorf("%s: block with HCL kind %q", path, h.Type)
	}
	if !h.IsBlock {
		return nil, fmt.Errorf("%s: documented as a block but the HCL table says attribute", path)
	}
	required := !p.Optional
	if mem != nil {
		required = mem.Required
	}
	if required && nb.NestingMode != "single" {
		nb.MinItems = 1
	}
	members, hasClass := mod.members(st.Name + "OutputReference")
	if !hasClass {
		members = nil // the provider's blocks have no output class
	}
	inner, err := g.block(mod, path, st, members, mod.hcl[st.Name], nil)
	if err != nil {
		return nil, err
	}
	nb.Block = inner
	return nb, nil
}

// cty JSON type helpers.
func prim(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
func coll(kind string, elem json.RawMessage) json.RawMessage {
	b, _ := json.Marshal([]any{kind, elem})
	return b
}

var (
	getterRE2 = regexp.MustCompile(`^()this\.(get\w+Attribute)\('(\w+)'\)$`)
	tokenAsRE = regexp.MustCompile(`^cdktf\.Token\.as\w+\((.*)\)$`)
	toListRE  = regexp.MustCompile(`^cdktf\.Fn\.tolist\((.*)\)$`)
)

// unwrapGetter strips the cdktf.Token.asX(...) casts around a getter's
// attribute read and reports whether a cdktf.Fn.tolist(...) marks a set.
func unwrapGetter(expr string) (string, bool) {
	isSet := false
	for {
		if m := tokenAsRE.FindStringSubmatch(expr); m != nil {
			expr = m[1]
			continue
		}
		if m := toListRE.FindStringSubmatch(expr); m != nil {
			expr, isSet = m[1], true
			continue
		}
		return expr, isSet
	}
}

var getterTypes = map[string]json.RawMessage{
	"getStringAttribute":     prim("string"),
	"getNumberAttribute":     prim("number"),
	"getBooleanAttribute":    prim("bool"),
	"getListAttribute":       coll("list", prim("string")),
	"getNumberListAttribute": coll("list", prim("number")),
	"getStringMapAttribute":  coll("map", prim("string")),
	"getNumberMapAttribute":  coll("map", prim("number")),
	"getBooleanMapAttribute": coll("map", prim("bool")),
}

// attrType finds an attribute's type: from the getter when it is one of the
// typed cdktf accessors, else from the class it constructs, else from the
// jsii property type with the list/set/map kind from the HCL table.
func (g *gen) attrType(mod *tsModule, path string, p *jsiiProp, mem *member, hcl map[string]hclAttr) (json.RawMessage, error) {
	name := path[strings.LastIndex(path, ".")+1:]
	var fromGetter json.RawMessage
	if mem != nil {
		expr, isSet := unwrapGetter(mem.Getter)
		if m := getterRE2.FindStringSubmatch(expr); m != nil && m[3] == name {
			t, ok := getterTypes[m[2]]
			if !ok {
				return nil, fmt.Errorf("%s: getter %s has no known type", path, m[2])
			}
			if isSet { // Fn.tolist(...) wraps a set so it can be indexed
				if !strings.HasPrefix(string(t), `["list",`) {
					return nil, fmt.Errorf("%s: tolist of a non-list getter %s", path, m[2])
				}
				t = coll("set", json.RawMessage(strings.TrimSuffix(strings.TrimPrefix(string(t), `["list",`), "]")))
			}
			fromGetter = t
		} else if mem.Ctor != "" {
			return g.ctorType(mod, path, mem)
		}
	}
	if p == nil {
		if fromGetter == nil {
			return nil, fmt.Errorf("%s: computed attribute with an unrecognised getter %q", path, mem.Getter)
		}
		return fromGetter, nil
	}
	fromJSII, err := g.jsiiType(mod, path, p.Type, hcl[name].Type, true)
	if err != nil {
		if fromGetter != nil {
			return fromGetter, nil
		}
		return nil, err
	}
	if fromGetter != nil && string(fromGetter) != string(fromJSII) {
		return nil, fmt.Errorf("%s: getter says %s, jsii+HCL table say %s", path, fromGetter, fromJSII)
	}
	return fromJSII, nil
}

// ctorType is the type of a member held in a cdktf complex class: XList
// (list or set of objects), XMap (map of objects), XOutputReference (object).
func (g *gen) ctorType(mod *tsModule, path string, mem *member) (json.RawMessage, error) {
	c := mem.Ctor
	switch c {
	case "cdktf.StringMap":
		return coll("map", prim("string")), nil
	case "cdktf.NumberMap":
		return coll("map", prim("number")), nil
	case "cdktf.BooleanMap":
		return coll("map", prim("bool")), nil
	}
	var kind, elem string
	switch {
	case strings.HasSuffix(c, "List"):
		kind, elem = "list", strings.TrimSuffix(c, "List")
		switch mem.CtorArgs {
		case "true":
			kind = "set"
		case "false":
		default:
			return nil, fmt.Errorf("%s: %s constructed with %q", path, c, mem.CtorArgs)
		}
	case strings.HasSuffix(c, "Map"):
		kind, elem = "map", strings.TrimSuffix(c, "Map")
	case strings.HasSuffix(c, "OutputReference"):
		elem = strings.TrimSuffix(c, "OutputReference")
	default:
		return nil, fmt.Errorf("%s: unknown complex class %s", path, c)
	}
	obj, err := g.objectType(mod, path, elem)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		return obj, nil
	}
	return coll(kind, obj), nil
}

// objectType is the object type whose fields are the members of
// <name>OutputReference, typed like attributes.
func (g *gen) objectType(mod *tsModule, path, name string) (json.RawMessage, error) {
	members, ok := mod.members(name + "OutputReference")
	if !ok {
		return nil, fmt.Errorf("%s: no class %sOutputReference", path, name)
	}
	var iface *jsiiType
	for _, t := range g.a.Types {
		if t.Name == name && t.Kind == "interface" && t.LocationInModule.Filename != "" &&
			strings.TrimSuffix(strings.TrimPrefix(t.LocationInModule.Filename, "src/"), ".ts")+".js" == mod.name {
			iface = t
			break
		}
	}
	props := map[string]*jsiiProp{}
	if iface != nil {
		for i := range iface.Properties {
			props[iface.Properties[i].snakeName()] = &iface.Properties[i]
		}
	}
	fields := map[string]json.RawMessage{}
	for n, mem := range members {
		t, err := g.attrType(mod, path+"."+n, props[n], mem, mod.hcl[name])
		if err != nil {
			return nil, err
		}
		fields[n] = t
	}
	b, _ := json.Marshal([]any{"object", fields})
	return b, nil
}

// jsiiType maps a jsii property type to a cty type; outer is the HCL table's
// kind for the property (list/set/map/simple/struct).
func (g *gen) jsiiType(mod *tsModule, path string, t typeRef, outer string, top bool) (json.RawMessage, error) {
	t = t.strip()
	switch {
	case t.Primitive != "":
		switch t.Primitive {
		case "string":
			return prim("string"), nil
		case "number":
			return prim("number"), nil
		case "boolean":
			return prim("bool"), nil
		}
		return nil, fmt.Errorf("%s: primitive %q", path, t.Primitive)
	case t.Collection != nil:
		kind := "map"
		if t.Collection.Kind == "array" {
			if !top || (outer != "list" && outer != "set") {
				return nil, fmt.Errorf("%s: array with HCL kind %q (nested=%v)", path, outer, !top)
			}
			kind = outer
		}
		elem, err := g.jsiiType(mod, path, t.Collection.Elementtype, "", false)
		if err != nil {
			return nil, err
		}
		return coll(kind, elem), nil
	case t.Fqn != "":
		st := g.a.Types[t.Fqn]
		if st == nil || st.Kind != "interface" || !st.Datatype {
			return nil, fmt.Errorf("%s: type %s is not a struct", path, t.Fqn)
		}
		return g.objectType(mod, path, st.Name)
	}
	return nil, fmt.Errorf("%s: unsupported jsii type %s", path, t)
}
