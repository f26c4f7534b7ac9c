package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxLogLines bounds what one container's log keeps in memory (the mirror tests read the
// last few seconds only; the file keeps everything).
const maxLogLines = 20000

type logLine struct {
	at   time.Time
	text []byte // without the newline
}

// containerLog keeps a container's output line by line with the time each line arrived,
// as a container runtime does, and copies it to a file.
type containerLog struct {
	mu      sync.Mutex
	lines   []logLine
	partial []byte
	file    *os.File
}

func newContainerLog(path string) (*containerLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &containerLog{file: f}, nil
}

func (l *containerLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	data := append(l.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, logLine{at: now, text: bytes.Clone(data[:i])})
		fmt.Fprintf(l.file, "%s %s\n", now.UTC().Format(time.RFC3339Nano), data[:i])
		data = data[i+1:]
	}
	l.partial = bytes.Clone(data)
	if len(l.lines) > maxLogLines {
		l.lines = append([]logLine(nil), l.lines[len(l.lines)-maxLogLines:]...)
	}
	return len(p), nil
}

func (l *containerLog) Close() error { return l.file.Close() }

// logQuery is what the API server forwards of a PodLogOptions.
type logQuery struct {
	since      time.Time
	timestamps bool
	tail       int // <0: all
	limitBytes int // <=0: no limit
}

func parseLogQuery(r *http.Request) (logQuery, error) {
	q := logQuery{tail: -1}
	v := r.URL.Query()
	if s := v.Get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, fmt.Errorf("sinceTime %q: %w", s, err)
		}
		q.since = t
	}
	if s := v.Get("sinceSeconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, fmt.Errorf("sinceSeconds %q: %w", s, err)
		}
		q.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	q.timestamps = v.Get("timestamps") == "true" || v.Get("timestamps") == "1"
	if s := v.Get("tailLines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, fmt.Errorf("tailLines %q: %w", s, err)
		}
		q.tail = n
	}
	if s := v.Get("limitBytes"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, fmt.Errorf("limitBytes %q: %w", s, err)
		}
		q.limitBytes = n
	}
	return q, nil
}

// render writes the lines the query selects, as `kubectl logs` shows them.
func (l *containerLog) render(q logQuery) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sel []logLine
	for _, ln := range l.lines {
		if !q.since.IsZero() && ln.at.Before(q.since) {
			continue
		}
		sel = append(sel, ln)
	}
	if q.tail >= 0 && len(sel) > q.tail {
		sel = sel[len(sel)-q.tail:]
	}
	var b bytes.Buffer
	for _, ln := range sel {
		if q.timestamps {
			b.WriteString(ln.at.UTC().Format(time.RFC3339Nano))
			b.WriteByte(' ')
		}
		b.Write(ln.text)
		b.WriteByte('\n')
	}
	out := b.Bytes()
	if q.limitBytes > 0 && len(out) > q.limitBytes {
		out = out[:q.limitBytes]
	}
	return out
}

// serveKubelet serves the kubelet API the API server uses here: GET
// /containerLogs/{namespace}/{pod}/{container} (pods/log) and /healthz, over TLS.
func (k *Kubelet) serveKubelet(l net.Listener, cert tls.Certificate) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", k.handleContainerLogs)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	go func() {
		if err := srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			k.logf("kubelet API stopped: %v", err)
		}
	}()
	return srv
}

func (k *Kubelet) handleContainerLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	q, err := parseLogQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rt := k.podByName(ns, pod)
	if rt == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s is not running on this node", ns, pod), http.StatusNotFound)
		return
	}
	cl := rt.log(container)
	if cl == nil {
		http.Error(w, fmt.Sprintf("container %q is not in pod %s/%s (containers: %s)", container, ns, pod,
			strings.Join(rt.containerNames(), ", ")), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(cl.render(q))
}

// shutdownServer stops srv, waiting at most a second for requests in flight.
func shutdownServer(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
