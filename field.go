package icymorning

// Field is one member of a partial update: the member changes to Value only
// when Set is true. It tells "leave as is" from "set to the zero value",
// which JSON Merge Patch (RFC 7396) needs.
type Field[T any] struct {
	Value T
	Set   bool
}

// Set returns a Field that changes its member to v.
func Set[T any](v T) Field[T] { return Field[T]{Value: v, Set: true} }
