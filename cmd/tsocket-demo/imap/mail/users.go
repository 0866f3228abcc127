package mail

import (
	"bufio"
	"crypto/subtle"
	"fmt"
	"io"
	"os"
	"strings"
)

// Users holds the accounts allowed to log in, from a file of
// "name:password" lines. It is read-only once built and safe for
// concurrent use.
type Users struct {
	passwords map[string]string
}

// DefaultUsers has the one demo account, demo/demo.
func DefaultUsers() *Users {
	return &Users{passwords: map[string]string{"demo": "demo"}}
}

// ParseUsers reads "name:password" lines; blank lines and lines starting
// with '#' are skipped. The password is everything after the first ':'.
func ParseUsers(r io.Reader) (*Users, error) {
	u := &Users{passwords: map[string]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		name, pw, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("mail: users line %d: want name:password", n)
		}
		u.passwords[name] = pw
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mail: users: %w", err)
	}
	return u, nil
}

// LoadUsers reads a users file.
func LoadUsers(path string) (*Users, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseUsers(f)
}

// Check reports whether name may log in with password. The comparison
// takes the same time whatever the password, so timing tells nothing.
func (u *Users) Check(name, password string) bool {
	want, ok := u.passwords[name]
	if !ok {
		want = "\x00not a password"
	}
	eq := subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
	return ok && eq
}
