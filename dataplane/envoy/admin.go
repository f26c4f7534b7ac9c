package envoy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ReadyPollInterval is how often WaitReady asks /ready.
const ReadyPollInterval = 20 * time.Millisecond

// adminClient talks to loopback admin endpoints only: never through a proxy.
var adminClient = &http.Client{
	Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 4},
	Timeout:   10 * time.Second,
}

var errExited = errors.New("envoy exited")

// WaitReady polls adminURL's /ready every ReadyPollInterval until it answers 200 "LIVE", or
// ctx ends. The error then says what /ready last answered; 503 PRE_INITIALIZING or
// INITIALIZING mean Envoy still waits for its first CDS or LDS response from the ADS server.
func WaitReady(ctx context.Context, adminURL string) error {
	return waitReady(ctx, adminURL, nil)
}

func waitReady(ctx context.Context, adminURL string, exited <-chan struct{}) error {
	tick := time.NewTicker(ReadyPollInterval)
	defer tick.Stop()
	last := "no answer yet"
	for {
		reqCtx, cancel := context.WithTimeout(ctx, time.Second)
		status, body, err := adminGet(reqCtx, adminURL, "/ready")
		cancel()
		state := strings.TrimSpace(string(body))
		switch {
		case err == nil && status == http.StatusOK && state == "LIVE":
			return nil
		case err == nil:
			last = fmt.Sprintf("%d %s", status, state)
		case ctx.Err() == nil:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			hint := ""
			if strings.Contains(last, "INITIALIZING") {
				hint = " (Envoy is waiting for its first CDS/LDS response from the ADS server)"
			}
			return fmt.Errorf("envoy at %s not ready: /ready last answered %s%s: %w", adminURL, last, hint, ctx.Err())
		case <-exited:
			return errExited
		case <-tick.C:
		}
	}
}

// ConfigDump returns Envoy's /config_dump (JSON). With resource "" it is the whole dump
// including EDS (?include_eds); otherwise only that field of the dump, e.g.
// "dynamic_active_clusters", "dynamic_listeners", "dynamic_route_configs",
// "dynamic_active_secrets" (?resource=...).
func ConfigDump(ctx context.Context, adminURL, resource string) ([]byte, error) {
	path := "/config_dump?include_eds"
	if resource != "" {
		path = "/config_dump?resource=" + url.QueryEscape(resource)
	}
	return AdminGet(ctx, adminURL, path)
}

// Stats returns Envoy's counters and gauges whose names match filter, an RE2 regular
// expression ("" for all), e.g. `^listener_manager\.lds\.` or
// `^cluster_manager\.cds\.update_(success|rejected)$`. Text stats (such as
// *.version_text) and histograms are left out.
func Stats(ctx context.Context, adminURL, filter string) (map[string]int64, error) {
	path := "/stats?format=json"
	if filter != "" {
		path += "&filter=" + url.QueryEscape(filter)
	}
	body, err := AdminGet(ctx, adminURL, path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Stats []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("envoy stats: %w", err)
	}
	out := make(map[string]int64, len(doc.Stats))
	for _, s := range doc.Stats {
		if s.Name == "" || len(s.Value) == 0 || s.Value[0] == '"' {
			continue // histograms, text stats
		}
		n, err := strconv.ParseInt(string(s.Value), 10, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(string(s.Value), 10, 64)
			if uerr != nil {
				return nil, fmt.Errorf("envoy stats: %s: bad value %s", s.Name, s.Value)
			}
			n = int64(min(u, 1<<63-1))
		}
		out[s.Name] = n
	}
	return out, nil
}

// AdminGet GETs pathAndQuery (e.g. "/clusters?format=json") from Envoy's admin endpoint and
// returns the body; an answer other than 200 is an error quoting the body.
func AdminGet(ctx context.Context, adminURL, pathAndQuery string) ([]byte, error) {
	status, body, err := adminGet(ctx, adminURL, pathAndQuery)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("envoy admin GET %s: %d: %s", pathAndQuery, status, bytes.TrimSpace(body))
	}
	return body, nil
}

func adminGet(ctx context.Context, adminURL, pathAndQuery string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(adminURL, "/")+pathAndQuery, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("envoy admin: %w", err)
	}
	res, err := adminClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("envoy admin: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("envoy admin GET %s: %w", pathAndQuery, err)
	}
	return res.StatusCode, body, nil
}
