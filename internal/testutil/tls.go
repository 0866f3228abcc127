package testutil

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gotevent/gotevent/internal/selfsigned"
)

// TLSConfigs are a server and a client configuration that trust each
// other: a self-signed ECDSA P-256 certificate for "localhost",
// 127.0.0.1 and ::1, made once per test binary.
type TLSConfigs struct {
	Server, Client *tls.Config
	// CertPEM and KeyPEM are the certificate and key, for tools that
	// read files (openssl, redis-cli, curl).
	CertPEM, KeyPEM []byte
}

var (
	tlsOnce sync.Once
	tlsCert *selfsigned.Cert
	tlsErr  error
)

// TLS returns fresh configurations (callers may change them) over the
// binary's certificate.
func TLS(t testing.TB) TLSConfigs {
	t.Helper()
	c, err := NewTLSConfigs()
	if err != nil {
		t.Fatalf("test certificate: %v", err)
	}
	return c
}

// NewTLSConfigs is TLS for code without a testing.TB (Examples).
func NewTLSConfigs() (TLSConfigs, error) {
	tlsOnce.Do(func() { tlsCert, tlsErr = selfsigned.New() })
	if tlsErr != nil {
		return TLSConfigs{}, tlsErr
	}
	return TLSConfigs{Server: tlsCert.Server(), Client: tlsCert.Client(), CertPEM: tlsCert.CertPEM, KeyPEM: tlsCert.KeyPEM}, nil
}

// WriteTLSFiles writes the certificate and key into dir and returns their
// paths.
func WriteTLSFiles(t testing.TB, dir string) (cert, key string) {
	t.Helper()
	c := TLS(t)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}
