package tour

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gotevent/gotevent/tsocket"
)

func (t *tour) lengthPrefixed() (string, error) {
	srv, cli, err := t.connected()
	if err != nil {
		return "", err
	}
	defer srv.Close()
	defer cli.Close()
	msgs := []string{"first", "a somewhat longer second message", "3"}
	var wire []byte
	for _, m := range msgs {
		wire = binary.BigEndian.AppendUint32(wire, uint32(len(m)))
		wire = append(wire, m...)
	}
	// All three PDUs leave in one write; the reader splits them.
	if _, err := poll(tsocket.WritevSend(t.ev, cli, [][]byte{wire})); err != nil {
		return "", err
	}
	var got []string
	for range msgs {
		var hdr [4]byte
		var body []byte
		stage := 0
		next := func(*tsocket.Stream) ([][]byte, error) {
			stage++
			switch stage {
			case 1: // the 4-byte length first
				return [][]byte{hdr[:]}, nil
			case 2: // then exactly the body it announced
				n := binary.BigEndian.Uint32(hdr[:])
				if n == 0 || n > 1<<20 {
					return nil, fmt.Errorf("bad length %d", n)
				}
				body = make([]byte, n)
				return [][]byte{body}, nil
			}
			return nil, nil // body full: the PDU is complete
		}
		if _, err := poll(tsocket.ReadvPDUSend(t.ev, srv, next)); err != nil {
			return "", err
		}
		got = append(got, string(body))
	}
	if strings.Join(got, "|") != strings.Join(msgs, "|") {
		return "", fmt.Errorf("PDUs %q", got)
	}
	return fmt.Sprintf("%d messages in one write split into PDUs %q", len(got), got), nil
}
