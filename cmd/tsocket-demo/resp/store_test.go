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

// An empty value is stored, not missing, and Exec keeps a copy of a value
// whose argument aliases a read buffer.
func TestStoreExecKeepsCopies(t *testing.T) {
	s := resp.NewStore()
	out, _ := s.Exec([][]byte{[]byte("SET"), []byte("e"), {}}, nil)
	out, _ = s.Exec([][]byte{[]byte("GET"), []byte("e")}, out)
	if diff := cmp.Diff("+OK\r\n$0\r\n\r\n", string(out)); diff != "" {
		t.Errorf("empty value (-want +got):\n%s", diff)
	}
	arg := []byte("first")
	s.Exec([][]byte{[]byte("set"), []byte("k"), arg}, nil)
	copy(arg, "XXXXX") // the read buffer is reused
	first, _ := s.Exec([][]byte{[]byte("get"), []byte("k")}, nil)
	if string(first) != "$5\r\nfirst\r\n" {
		t.Errorf("GET after the read buffer changed = %q", first)
	}
}

// Every key has one owner, the same from every loop.
func TestKeyspaceOwner(t *testing.T) {
	one := resp.NewKeyspace(nil)
	if one.Owner([]byte("anything")) != 0 {
		t.Fatal("a one-loop key space has another owner than 0")
	}
	ks := resp.NewKeyspace(nil, nil, nil)
	seen := map[int]bool{}
	for i := range 300 {
		k := []byte{byte(i), byte(i >> 8), 'k'}
		o := ks.Owner(k)
		if o < 0 || o >= 3 || ks.Owner(k) != o {
			t.Fatalf("Owner(%q) = %d, then %d", k, o, ks.Owner(k))
		}
		seen[o] = true
	}
	if len(seen) != 3 {
		t.Errorf("300 keys went to loops %v only", seen)
	}
}
