package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/icy-morning/icy-morning/internal/testdb"
)

// auditReader reads a row's created_by and updated_by through a connection
// of the test's own: the API shows them nowhere, and the store has no
// method for them (sqlstore/audit.go).
type auditReader func(t *testing.T, table string, id int64) (createdBy, updatedBy *string)

// A write with Basic credentials records the Basic user as who created
// and who last changed the row; no body, of the write or of a read, nor
// the API document, names the columns.
func TestWritesRecordTheBasicUser(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(t *testing.T) (url string, read auditReader)
	}{
		{"sqlite", func(t *testing.T) (string, auditReader) {
			path := filepath.Join(t.TempDir(), "api.db")
			return "sqlite:///" + path, func(t *testing.T, table string, id int64) (c, u *string) {
				t.Helper()
				conn, err := sql.Open("sqlite", path) // the driver sqlstore registers
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if err := conn.QueryRow(`SELECT created_by, updated_by FROM `+table+` WHERE id = ?`, id).Scan(&c, &u); err != nil {
					t.Fatal(err)
				}
				return c, u
			}
		}},
		{"postgres", func(t *testing.T) (string, auditReader) {
			url := testdb.Postgres(t)
			return url, func(t *testing.T, table string, id int64) (c, u *string) {
				t.Helper()
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				if err := conn.QueryRow(ctx, `SELECT created_by, updated_by FROM `+table+` WHERE id = $1`, id).Scan(&c, &u); err != nil {
					t.Fatal(err)
				}
				return c, u
			}
		}},
	} {
		t.Run(db.name, func(t *testing.T) {
			url, read := db.open(t)
			e := newEnv(t, url)
			// Each step is a request, the row it writes and what that row
			// must then record.
			steps := []struct {
				method, path, body string
				table              string
				status             int
			}{
				{"POST", "/api/v1/analysts", `{"name":"Ada","company":"Acme"}`, "analysts", 201},
				{"POST", "/api/v1/assets", `{"name":"Fund","inception_date":"2020-01-02","is_active":true,"analyst_id":1}`, "assets", 201},
				{"PATCH", "/api/v1/analysts/1", `{"company":"Initech"}`, "analysts", 200},
				{"PUT", "/api/v1/assets/1", `{"name":"Fund 2","inception_date":"2020-01-02","is_active":false,"analyst_id":1}`, "assets", 200},
			}
			for _, st := range steps {
				t.Run(st.method+" "+st.path, func(t *testing.T) {
					r := e.do(req{method: st.method, path: st.path, body: st.body})
					if r.StatusCode != st.status {
						t.Fatalf("status %d: %s", r.StatusCode, r.body)
					}
					var body map[string]any
					r.json(t, &body)
					noAuditMembers(t, body)
					c, u := read(t, st.table, int64(body["id"].(float64)))
					if c == nil || *c != user || u == nil || *u != user {
						t.Fatalf("%s row: created_by %v, updated_by %v, want %q for both", st.table, deref(c), deref(u), user)
					}
				})
			}
			for _, path := range []string{"/api/v1/analysts/1", "/api/v1/assets/1", "/api/v1/analysts", "/api/v1/assets"} {
				r := e.do(req{method: "GET", path: path, auth: "none"})
				if strings.Contains(string(r.body), "created_by") || strings.Contains(string(r.body), "updated_by") {
					t.Errorf("GET %s names the audit columns: %s", path, r.body)
				}
			}
			doc, err := json.Marshal(e.api.OpenAPI())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(doc), "created_by") || strings.Contains(string(doc), "updated_by") {
				t.Error("the API document names the audit columns")
			}
		})
	}
}

func noAuditMembers(t *testing.T, body map[string]any) {
	t.Helper()
	for _, k := range []string{"created_by", "updated_by"} {
		if _, ok := body[k]; ok {
			t.Errorf("the body has %s: %v", k, body)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}
