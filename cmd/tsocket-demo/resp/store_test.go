package resp_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

func TestStoreExec(t *testing.T) {
	s := resp.NewStore()
	var out []byte
	run := func(args ...string) {
		var b [][]byte
		for _, a := range args {
			b = append(b, []byte(a))
		}
		out, _ = s.Exec(b, out)
	}
	run("PING")
	run("ping", "hi")
	run("SET", "k", "v")
	run("GET", "k")
	run("GET", "missing")
	run("EXISTS", "k", "missing")
	run("INCR", "n")
	run("INCR", "n")
	run("INCR", "k")
	run("DEL", "k", "n", "missing")
	run("ECHO")
	run("NOPE")
	run("CONFIG", "GET", "save")
	run("COMMAND", "DOCS")
	want := "+PONG\r\n$2\r\nhi\r\n+OK\r\n$1\r\nv\r\n$-1\r\n:1\r\n:1\r\n:2\r\n" +
		"-ERR value is not an integer or out of range\r\n:2\r\n" +
		"-ERR wrong number of arguments for 'echo' command\r\n-ERR unknown command 'NOPE'\r\n" +
		"*2\r\n$4\r\nsave\r\n$-1\r\n*0\r\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Fatalf("replies mismatch (-want +got):\n%s", diff)
	}
	if _, quit := s.Exec([][]byte{[]byte("QUIT")}, nil); !quit {
		t.Fatal("QUIT did not ask to close")
	}
}
