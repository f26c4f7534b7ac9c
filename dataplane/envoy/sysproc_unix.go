//go:build unix && !linux

package envoy

import (
	"os"
	"syscall"
)

// sysProcAttr puts Envoy in its own process group; see sysproc_linux.go. Without Pdeathsig,
// an Envoy whose parent crashed keeps running until killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends SIGKILL to the process group led by p.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
