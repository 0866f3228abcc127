package load

import "fmt"

// RESPBatch returns a batch of depth RESP commands, SET and GET of one
// key by turns (a SET first), the number of reply bytes it draws, and its
// message count. The replies are "+OK\r\n" and "$3\r\nval\r\n".
func RESPBatch(depth int) (req []byte, respLen, msgs int) {
	const key = "key:000000000042"
	for i := range depth {
		if i%2 == 0 {
			req = fmt.Appendf(req, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nval\r\n", len(key), key)
			respLen += len("+OK\r\n")
		} else {
			req = fmt.Appendf(req, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
			respLen += len("$3\r\nval\r\n")
		}
	}
	return req, respLen, depth
}
