// Package nettestconn runs golang.org/x/net/nettest's conformance suite for
// net.Conn against tsocket.NetConn. It lives in the benchmark module so that
// golang.org/x/net stays out of the library's go.mod; it has no code of its
// own, only the test.
package nettestconn
