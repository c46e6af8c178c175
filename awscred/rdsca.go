package awscred

import (
	"crypto/x509"
	_ "embed"
	"errors"
)

// rdsCABundle holds the certificate authorities of Amazon RDS (one root per
// region) and of RDS Proxy (the Amazon roots its certificates chain to).
// RDS's own roots are in no system trust store, so without them the only
// choice is sslmode=require, which encrypts but accepts any server. The
// file is public data, refreshed by scripts/update-rds-ca.sh.
//
//go:embed rds-ca-bundle.pem
var rdsCABundle []byte

// RDSRootCAs returns the system's roots plus the RDS and RDS Proxy
// authorities, for sslmode=verify-full against an RDS instance or proxy.
func RDSRootCAs() (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(rdsCABundle) {
		return nil, errors.New("the embedded RDS certificate bundle holds no certificate")
	}
	return pool, nil
}
