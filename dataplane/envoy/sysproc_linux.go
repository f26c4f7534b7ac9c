package envoy

import (
	"os"
	"syscall"
)

// sysProcAttr puts Envoy in its own process group (a terminal's SIGINT goes to the
// foreground group, i.e. gatebridge, which then stops Envoy cleanly) and has the kernel
// kill Envoy if the thread that started it (see Start) dies with gatebridge.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by p.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
