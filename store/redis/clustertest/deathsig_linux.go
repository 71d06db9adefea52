package clustertest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the node if the test process dies
// without calling Stop (a panic, a timeout, ^C), so no server outlives it.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
