// Package tlscert makes the benchmark's TLS certificate and the
// configurations that use it. One self-signed ECDSA P-256 certificate, for
// 127.0.0.1 and localhost, is its own CA: redis-server, redis-benchmark, the
// demo, the Go servers and the load generator all load the same PEM files,
// so no server is helped or hurt by its key. It is the one the tests make
// (internal/selfsigned, crypto/x509), so the suite needs no openssl binary.
package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gotevent/gotevent/internal/selfsigned"
)

// ServerName is the name the certificate is issued to (selfsigned's
// localhost) and clients check.
const ServerName = "localhost"

// Files names the PEM files Write made.
type Files struct {
	Cert string // the certificate, also the CA to verify it with
	Key  string // its private key (SEC 1, "EC PRIVATE KEY")
}

// Write makes a fresh key and certificate, valid from an hour ago for a
// day, and writes them to dir as cert.pem and key.pem (the key readable by
// its owner only).
func Write(dir string) (Files, error) {
	c, err := selfsigned.New()
	if err != nil {
		return Files{}, fmt.Errorf("tlscert: %w", err)
	}
	f := Files{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	err = errors.Join(os.WriteFile(f.Cert, c.CertPEM, 0o644), os.WriteFile(f.Key, c.KeyPEM, 0o600))
	if err != nil {
		return Files{}, fmt.Errorf("tlscert: %w", err)
	}
	return f, nil
}

// ServerConfig is a server's configuration with the certificate in
// certFile and keyFile, crypto/tls's defaults otherwise (as the demo's).
func ServerConfig(certFile, keyFile string) (*tls.Config, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{c}}, nil
}

// ClientConfig is the load generator's configuration: TLS 1.3 only,
// X25519 key exchange, the certificate in caFile as the only root, and no
// session cache, so every connection is a full handshake that verifies
// the server's chain and signature.
func ClientConfig(caFile string) (*tls.Config, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tlscert: no certificate in %s", caFile)
	}
	return &tls.Config{
		RootCAs:          pool,
		ServerName:       ServerName,
		MinVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}, nil
}

// Configs writes a fresh certificate into dir and returns a server and a
// client configuration that trust each other through it, for tests that
// need both ends.
func Configs(dir string) (server, client *tls.Config, err error) {
	f, err := Write(dir)
	if err != nil {
		return nil, nil, err
	}
	if server, err = ServerConfig(f.Cert, f.Key); err != nil {
		return nil, nil, err
	}
	if client, err = ClientConfig(f.Cert); err != nil {
		return nil, nil, err
	}
	return server, client, nil
}
