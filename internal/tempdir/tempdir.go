// Package tempdir makes the temporary directory a benchmark run or a test
// binary works in (builds, database files, logs) and removes it afterwards.
package tempdir

import "os"

// Make creates a new directory under os.TempDir whose name begins with
// prefix, and returns it with the function that removes it and all it
// holds. With keep, that function leaves it in place, and Make names it
// through logf (which may then not be nil), so that what a run left there
// can be looked at.
func Make(prefix string, keep bool, logf func(format string, args ...any)) (dir string, remove func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	if keep {
		logf("keeping %s", dir)
		return dir, func() {}, nil
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}
