package echo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running test server (see Start).
type Server struct {
	// Name is the name given to Start.
	Name string
	// Addr is the address the server listens on, with the real port ("127.0.0.1:43127").
	Addr string
	// URL is "http://" or "https://" followed by Addr.
	URL string
	// TLS tells whether the server serves TLS.
	TLS bool

	srv       *http.Server
	ln        net.Listener
	active    atomic.Int64 // requests being served
	closing   atomic.Bool
	served    chan struct{}
	serveErr  error
	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves h until Close. Without
// tlsCert it serves cleartext HTTP/1.1 and HTTP/2 with prior knowledge (h2c, what Envoy
// sends to an upstream configured for HTTP/2); with tlsCert it serves TLS and negotiates
// HTTP/2 or HTTP/1.1 by ALPN.
func Start(name, addr string, h http.Handler, tlsCert *tls.Certificate) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("echo %s: %w", name, err)
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if tlsCert != nil {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	s := &Server{
		Name:   name,
		Addr:   ln.Addr().String(),
		TLS:    tlsCert != nil,
		ln:     ln,
		served: make(chan struct{}),
		srv: &http.Server{
			Protocols:         &protocols,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(os.Stderr, "echo "+name+": ", log.LstdFlags),
		},
	}
	scheme := "http"
	if tlsCert != nil {
		scheme = "https"
		s.srv.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{*tlsCert},
			MinVersion:   tls.VersionTLS12,
		}
	}
	s.URL = scheme + "://" + s.Addr
	s.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.active.Add(1)
		defer s.active.Add(-1)
		h.ServeHTTP(w, r)
	})
	go func() {
		defer close(s.served)
		var err error
		if tlsCert != nil {
			err = s.srv.ServeTLS(ln, "", "")
		} else {
			err = s.srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) && !s.closing.Load() {
			s.serveErr = err
		}
	}()
	return s, nil
}

// Port returns the port the server listens on.
func (s *Server) Port() int {
	_, p, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// Close stops the server: it stops accepting, lets requests in flight finish for up to two
// seconds, then closes every connection (idle keep-alive and HTTP/2 connections, such as
// Envoy's upstream pools, are closed at once). It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		_ = s.ln.Close()
		// Shutdown waits for every response to be written, not only for the handlers to
		// return (a connection closed between the two ends a response early: EOF for the
		// client); what is still busy after two seconds is closed.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
		_ = s.srv.Close()
		<-s.served
		if s.serveErr != nil {
			s.closeErr = fmt.Errorf("echo %s: %w", s.Name, s.serveErr)
		}
	})
	return s.closeErr
}
