package sqlstore

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// AppRole is the least-privilege PostgreSQL role that migration 00004
// creates: the API and worker connect as it, and it can read and write the
// service's rows but not change the schema.
const AppRole = "icy_app"

// rdsIAMRole is the role RDS creates on every instance: its members must
// sign in with an IAM auth token, and can no longer use a password.
const rdsIAMRole = "rds_iam"

// AppRoleAccess is how AppRole signs in, which ProvisionAppRole sets up.
// The zero value changes nothing.
type AppRoleAccess struct {
	// Password, when set, becomes AppRole's password.
	Password string
	// IAMAuth grants AppRole rds_iam, so that it signs in with RDS IAM auth
	// tokens.
	IAMAuth bool
}

const (
	// Taken by every provisioning run on the database, for its
	// transaction: two runs at once (tests provision many schemas of one
	// database side by side) would update AppRole's one pg_authid row
	// together, and the second would fail with "tuple concurrently
	// updated". Advisory locks are the database's, not the cluster's: runs
	// on two databases of one cluster are not kept apart. The key is
	// "icy_app" in ASCII.
	sqlAppRoleLock = `SELECT pg_advisory_xact_lock(29664245497032816)`
	// Who is migrating, and whether the migrations have made the role.
	sqlAppRoleState = `SELECT current_user, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1), EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2)`
	// DDL takes no parameters: format quotes the role as an identifier
	// and the password as a literal, on the server, so no value can break
	// out of the statement.
	sqlAppRolePassword = `SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)`
	sqlAppRoleIsMember = `SELECT pg_has_role($1, $2, 'MEMBER')`
	sqlAppRoleGrantIAM = `GRANT rds_iam TO icy_app`
)

// ProvisionAppRole gives AppRole its way in as access says. It runs as the
// migrating user (on RDS the master user), after the migrations have
// created the role, in one transaction. rds_iam is only ever granted to
// AppRole: a user granted rds_iam can no longer sign in with its password,
// and the master user's password is what RDS Proxy and an operator's
// emergency access use. SQLite has no roles: any access is an error there.
func (s *Store) ProvisionAppRole(ctx context.Context, access AppRoleAccess) error {
	if access == (AppRoleAccess{}) {
		return nil
	}
	if s.dialect != Postgres {
		return fmt.Errorf("sqlstore: the %s role's password or IAM auth needs PostgreSQL, not %s", AppRole, s.dialect)
	}
	if access.Password != "" && access.IAMAuth {
		// A member of rds_iam can only sign in with a token.
		return fmt.Errorf("sqlstore: %s signs in with a password or with IAM auth, not both", AppRole)
	}
	var verifier string
	if access.Password != "" {
		var err error
		if verifier, err = scramVerifier(access.Password); err != nil {
			return err
		}
	}
	return s.withTx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, sqlAppRoleLock); err != nil {
			return fmt.Errorf("sqlstore: provision %s: %w", AppRole, err)
		}
		var user string
		var hasApp, hasIAM bool
		if err := q.queryRow(ctx, sqlAppRoleState, AppRole, rdsIAMRole).Scan(&user, &hasApp, &hasIAM); err != nil {
			return fmt.Errorf("sqlstore: provision %s: %w", AppRole, err)
		}
		switch {
		case user == AppRole:
			return fmt.Errorf("sqlstore: connected as %s, which cannot provision itself: migrate as the database's owner (on RDS, the master user)", AppRole)
		case !hasApp:
			return fmt.Errorf("sqlstore: role %s does not exist: apply the migrations first", AppRole)
		case access.IAMAuth && !hasIAM:
			return fmt.Errorf("sqlstore: role %s does not exist: IAM database auth for %s needs an RDS database (RDS creates %s)", rdsIAMRole, AppRole, rdsIAMRole)
		}
		if verifier != "" {
			var stmt string
			if err := q.queryRow(ctx, sqlAppRolePassword, AppRole, verifier).Scan(&stmt); err != nil {
				return fmt.Errorf("sqlstore: set the password of %s: %w", AppRole, err)
			}
			if _, err := q.exec(ctx, stmt); err != nil {
				return fmt.Errorf("sqlstore: set the password of %s: %w", AppRole, err)
			}
		}
		if access.IAMAuth {
			var member bool
			if err := q.queryRow(ctx, sqlAppRoleIsMember, AppRole, rdsIAMRole).Scan(&member); err != nil {
				return fmt.Errorf("sqlstore: grant %s to %s: %w", rdsIAMRole, AppRole, err)
			}
			if !member {
				if _, err := q.exec(ctx, sqlAppRoleGrantIAM); err != nil {
					return fmt.Errorf("sqlstore: grant %s to %s: %w", rdsIAMRole, AppRole, err)
				}
			}
		}
		return nil
	})
}

// scramIterations is PostgreSQL's own default (scram_iterations).
const scramIterations = 4096

// scramVerifier hashes password into the SCRAM-SHA-256 verifier PostgreSQL
// stores (RFC 5803's form, as PostgreSQL's scram-common.c and libpq's
// PQencryptPasswordConn make it). ALTER ROLE is handed the verifier, never
// the password: the statement's text may reach the server's log
// (log_statement=ddl, or an error), and pg_stat_activity. PostgreSQL and
// libpq SASLprep a password first; for printable ASCII that changes
// nothing, and other passwords are refused rather than risk a verifier the
// client's hash does not match.
func scramVerifier(password string) (string, error) {
	for i := 0; i < len(password); i++ {
		if c := password[i]; c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("sqlstore: the password of %s must be printable ASCII (character %d is not)", AppRole, i+1)
		}
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // never fails (crypto/rand's documentation)
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", errors.New("sqlstore: hash the password: " + err.Error())
	}
	mac := func(msg string) []byte {
		h := hmac.New(sha256.New, salted)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac("Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(scramIterations) + ":" + b64(salt) + "$" + b64(stored[:]) + ":" + b64(mac("Server Key")), nil
}
