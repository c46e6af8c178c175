// Package lambdazip writes a Lambda deployment package: one executable
// named bootstrap, with fixed metadata (mode 0755, a constant time stamp),
// so the same binary always gives the same zip and Terraform's
// source_code_hash changes only when the code does. The zip tool stamps the
// build time, and an executable bit lost on the way makes Lambda fail with
// "permission denied" at init.
package lambdazip

import (
	"archive/zip"
	"io"
	"os"
	"time"
)

// Write writes the zip at out holding the file bootstrap.
func Write(out, bootstrap string) error {
	in, err := os.Open(bootstrap)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.Copy(w, in)
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
