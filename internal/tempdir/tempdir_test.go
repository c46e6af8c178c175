package tempdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMake(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			var logged []string
			logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
			dir, remove, err := Make("tempdir-test-", keep, logf)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(filepath.Base(dir), "tempdir-test-") {
				t.Errorf("dir %s does not begin with the prefix", dir)
			}
			if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			remove()
			_, err = os.Stat(dir)
			if keep {
				if err != nil || len(logged) != 1 || !strings.Contains(logged[0], dir) {
					t.Errorf("kept dir: stat %v, logged %q", err, logged)
				}
			} else if !os.IsNotExist(err) || len(logged) != 0 {
				t.Errorf("removed dir: stat %v, logged %q", err, logged)
			}
		})
	}
}
