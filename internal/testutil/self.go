package testutil

import (
	"os"
	"os/exec"
)

// QemuEnv, when set (make test-arm64 sets it), names the qemu-user
// emulator the test binary runs under.
const QemuEnv = "GOTEVENT_QEMU"

// SelfCommand returns a command that runs this test binary again with
// args, for tests that need a second process. Under qemu-user the kernel
// cannot exec the binary itself (qemu does not follow exec, and nothing
// tells the kernel to hand the binary to it), so the child runs under the
// emulator too.
func SelfCommand(args ...string) *exec.Cmd {
	argv := append([]string{os.Args[0]}, args...)
	if emu := os.Getenv(QemuEnv); emu != "" {
		argv = append([]string{emu}, argv...)
	}
	return exec.Command(argv[0], argv[1:]...)
}
