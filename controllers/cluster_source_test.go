package controllers

import (
	"context"
	"testing"

	"github.com/gatebridge-dev/gatebridge/internal/testenv"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// TestReadClusterFillsServices: a cluster read hands the pipeline its Services in both
// places it reads them (Input.Services for the converter, Services for pipeline.Build).
func TestReadClusterFillsServices(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "readcluster")
	create(t, env, service(ns, "web"))
	create(t, env, service(ns, "api"))
	l, err := sources.ReadCluster(context.Background(), env.KubeconfigFile(t), ns, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Input.Services) != 2 || len(l.Services) != 2 {
		t.Fatalf("Input.Services %d, Services %d, want 2 and 2", len(l.Input.Services), len(l.Services))
	}
	for i := range l.Services {
		if l.Services[i] != &l.Input.Services[i] {
			t.Errorf("Services[%d] does not point at Input.Services[%d]", i, i)
		}
	}
}
