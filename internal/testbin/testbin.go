// Package testbin gives tests the dnsscience binary to run as a child
// process: the one `make test` built beforehand (DNSSCIENCE_TEST_BIN), so
// that compiling it never counts against a test binary's timeout, or else
// one `go build` per test process.
package testbin

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// EnvVar names the prebuilt binary; the Makefile sets it.
const EnvVar = "DNSSCIENCE_TEST_BIN"

var built struct {
	once sync.Once
	path string
	err  error
}

// Path returns the binary, building it once per process when the
// environment names none. The web UI is embedded when `make web` built it.
func Path(t testing.TB) string {
	t.Helper()
	built.once.Do(func() { built.path, built.err = locate() })
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func locate() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvVar, p, err)
		}
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s=%q is not an executable file (run `make build`, or unset it to build one)", EnvVar, p)
		}
		return abs, nil
	}
	dir, err := os.MkdirTemp("", "dnsscience-test-")
	if err != nil {
		return "", fmt.Errorf("building the binary: %w", err)
	}
	path := filepath.Join(dir, "dnsscience")
	if out, err := exec.Command("go", "build", "-o", path, "github.com/dnsscience/dnsscience/cmd/dnsscience").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the binary: %v\n%s", err, out)
	}
	return path, nil
}

// Copy returns a private copy of the binary in a directory anyone may read
// and enter, for a test that changes the file (capabilities) or runs it as
// another user.
func Copy(t testing.TB) string {
	t.Helper()
	src := Path(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dnsscience")
	if err := copyFile(dst, src); err != nil {
		t.Fatalf("copying the binary: %v", err)
	}
	return dst
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
