package sqlstore

import (
	"strconv"
	"strings"
)

// listQuery builds the query of one page of a list: the rows after a given
// id that equal each filter in use, in id order. Only a few shapes exist
// (one per combination of filters), so the prepared statement caches stay
// small.
type listQuery struct {
	b    strings.Builder
	args []any
}

// newListQuery starts the query of a page after id after; sel is
// "SELECT columns FROM table".
func newListQuery(sel string, after int64) *listQuery {
	l := &listQuery{args: []any{after}}
	l.b.WriteString(sel + " WHERE id > $1")
	return l
}

// equal adds the condition column = v when v is set (not nil).
func equal[T any](l *listQuery, column string, v *T) {
	if v == nil {
		return
	}
	l.args = append(l.args, *v)
	l.b.WriteString(" AND " + column + " = $" + strconv.Itoa(len(l.args)))
}

// sql returns the query, ending in the page's order and limit, and its
// arguments.
func (l *listQuery) sql(limit int) (string, []any) {
	l.b.WriteString(" ORDER BY id " + limitClause(limit))
	return l.b.String(), l.args
}
