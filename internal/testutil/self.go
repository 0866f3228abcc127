package testutil

import (
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
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

// UnderQemu reports whether the test runs under qemu-user (make
// test-arm64).
func UnderQemu() bool { return os.Getenv(QemuEnv) != "" }

// CloseCopies closes every descriptor of this process other than keep
// that refers to the same file as one of keep: copies that qemu-user's
// recvmsg leaves open without telling the program, when the rights sent
// do not fit the program's control buffer.
func CloseCopies(keep ...int) {
	want := make([]unix.Stat_t, len(keep))
	for i, fd := range keep {
		if unix.Fstat(fd, &want[i]) != nil {
			return
		}
	}
outer:
	for fd := 3; fd < 1024; fd++ {
		for _, k := range keep {
			if fd == k {
				continue outer
			}
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			continue
		}
		for i := range want {
			if st.Dev == want[i].Dev && st.Ino == want[i].Ino {
				unix.Close(fd)
				break
			}
		}
	}
}
