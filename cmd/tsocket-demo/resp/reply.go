package resp

import "strconv"

// appendBulk appends v as a bulk string, or the null bulk string for nil.
func appendBulk(out, v []byte) []byte {
	if v == nil {
		return append(out, "$-1\r\n"...)
	}
	out = append(out, '$')
	out = strconv.AppendInt(out, int64(len(v)), 10)
	out = append(out, '\r', '\n')
	out = append(out, v...)
	return append(out, '\r', '\n')
}

// appendInt appends v as an integer reply.
func appendInt(out []byte, v int64) []byte {
	out = append(out, ':')
	out = strconv.AppendInt(out, v, 10)
	return append(out, '\r', '\n')
}

// appendErr appends msg as an error reply.
func appendErr(out []byte, msg string) []byte {
	out = append(out, '-')
	out = append(out, msg...)
	return append(out, '\r', '\n')
}

// AppendError appends err as a RESP error reply ("-ERR " and its text).
func AppendError(out []byte, err error) []byte {
	return appendErr(out, "ERR "+err.Error())
}
