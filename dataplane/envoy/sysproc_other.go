//go:build !unix

package envoy

import (
	"os"
	"syscall"
)

// sysProcAttr: Envoy runs only on Unix-like systems; elsewhere this package builds but
// supervises without process groups.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { _ = p.Kill() }
