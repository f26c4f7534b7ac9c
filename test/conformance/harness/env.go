package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Binaries are what hack/conformance.sh builds.
type Binaries struct {
	// AssetsDir holds etcd, kube-apiserver and kube-controller-manager.
	AssetsDir string
	// EchoBasic is the suite's backend, built from the conformance module.
	EchoBasic string
	// Gatebridge is the binary under test.
	Gatebridge string
}

// FindBinaries takes the paths from KUBEBUILDER_ASSETS, ECHO_BASIC and GATEBRIDGE_BIN
// when all are set (make conformance sets them), else runs hack/conformance.sh in
// repoRoot, which builds what is missing (kube-controller-manager ~6 min cold, cached).
func FindBinaries(repoRoot string) (Binaries, error) {
	b := Binaries{
		AssetsDir:  os.Getenv("KUBEBUILDER_ASSETS"),
		EchoBasic:  os.Getenv("ECHO_BASIC"),
		Gatebridge: os.Getenv("GATEBRIDGE_BIN"),
	}
	if b.AssetsDir != "" && b.EchoBasic != "" && b.Gatebridge != "" &&
		fileExists(filepath.Join(b.AssetsDir, "kube-controller-manager")) {
		return b, nil
	}
	script := filepath.Join(repoRoot, "hack", "conformance.sh")
	cmd := exec.Command(script)
	cmd.Dir = repoRoot
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return b, fmt.Errorf("%s: %w", script, err)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	b = Binaries{AssetsDir: vars["KUBEBUILDER_ASSETS"], EchoBasic: vars["ECHO_BASIC"], Gatebridge: vars["GATEBRIDGE_BIN"]}
	for name, p := range map[string]string{"KUBEBUILDER_ASSETS": b.AssetsDir, "ECHO_BASIC": b.EchoBasic, "GATEBRIDGE_BIN": b.Gatebridge} {
		if p == "" || !fileExists(p) || strings.ContainsAny(p, `'"\$ `) {
			return b, fmt.Errorf("%s printed no usable %s (got %q)", script, name, p)
		}
	}
	return b, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Lock serialises harnesses on one machine (they share the bridge, the namespace names
// and the pod CIDR). It blocks until the lock is free; release with the returned func.
func Lock() (func(), error) {
	path := filepath.Join(os.TempDir(), "gatebridge-conformance.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// RepoRoot is the gatebridge checkout above dir (the directory with hack/conformance.sh).
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "hack", "conformance.sh")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no gatebridge checkout (hack/conformance.sh) above %s", dir)
		}
	}
}
