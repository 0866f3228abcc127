package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
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
	tlsCert tls.Certificate
	tlsCA   *x509.CertPool
	tlsPEM  [2][]byte
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
	tlsOnce.Do(makeCert)
	if tlsErr != nil {
		return TLSConfigs{}, tlsErr
	}
	return TLSConfigs{
		Server:  &tls.Config{Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12},
		Client:  &tls.Config{RootCAs: tlsCA, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		CertPEM: tlsPEM[0],
		KeyPEM:  tlsPEM[1],
	}, nil
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

func makeCert() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tlsErr = err
		return
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gotevent test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tlsErr = err
		return
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tlsErr = err
		return
	}
	tlsPEM[0] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	tlsPEM[1] = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	tlsCert, tlsErr = tls.X509KeyPair(tlsPEM[0], tlsPEM[1])
	if tlsErr != nil {
		return
	}
	tlsCA = x509.NewCertPool()
	tlsCA.AppendCertsFromPEM(tlsPEM[0])
}
