package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestConvertPortable: convert --portable writes standard kinds only, and report
// --portable says what each Ingress loses.
func TestConvertPortable(t *testing.T) {
	in := filepath.Join("..", "..", "converters", "testdata", "portable-constructs.in.yaml")
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"convert", "--portable", "--validate", "-f", in}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("convert --portable: exit %d: %s", code, stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "apiVersion: ") && !strings.HasPrefix(line, "apiVersion: gateway.networking.k8s.io/") && line != "apiVersion: v1" {
			t.Errorf("convert --portable emitted %s", line)
		}
	}
	for _, want := range []string{"kind: GRPCRoute", "kind: BackendTLSPolicy", "type: CORS"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("convert --portable: no %q in the output", want)
		}
	}

	stdout.Reset()
	stderr.Reset()
	if code := Run([]string{"report", "--portable", "-o", "json", "-f", in}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("report --portable: exit %d: %s", code, stderr.String())
	}
	var r struct {
		Settings  struct{ Portable bool }
		Ingresses []struct {
			Name        string
			Portable    bool
			NotPortable []string
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Settings.Portable {
		t.Error("report --portable: settings.portable is not set")
	}
	for _, ing := range r.Ingresses {
		if ing.Name == "plain" && (ing.Portable || len(ing.NotPortable) != 2) {
			t.Errorf("plain: portable=%v notPortable=%q, want the body limit and the allow list lost", ing.Portable, ing.NotPortable)
		}
		if ing.Name == "grpc" && !ing.Portable {
			t.Errorf("grpc: not portable (%q), want a GRPCRoute saying it all", ing.NotPortable)
		}
	}
}
