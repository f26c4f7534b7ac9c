package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
)

// bootstrapFlags are the flags of `gatebridge envoy-bootstrap`.
type bootstrapFlags struct {
	xdsServer    string
	adminAddress string
	adminPort    int
	httpPort     int
	httpsPort    int
	readyPort    int
	readyAddress string
	nodeID       string
}

// runEnvoyBootstrap prints the bootstrap of an Envoy that joins a controller's xDS server:
// what manifests/envoy ships in a ConfigMap, and what `envoy -c` needs on a laptop.
func runEnvoyBootstrap(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gatebridge envoy-bootstrap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f bootstrapFlags
	fs.StringVar(&f.xdsServer, "xds-server", "", "host:port of the controller's xDS server (required), e.g. gatebridge-controller.gatebridge-system.svc.cluster.local:18000")
	fs.IntVar(&f.adminPort, "admin-port", 9901, "Envoy's admin port (on --admin-address only)")
	fs.StringVar(&f.adminAddress, "admin-address", "127.0.0.1", "Envoy's admin address: a loopback IP (the admin endpoint is unauthenticated)")
	fs.IntVar(&f.httpPort, "http-port", 8080, "port this Envoy binds for the Gateway's port 80 (sent to the controller in the node metadata)")
	fs.IntVar(&f.httpsPort, "https-port", 8443, "port this Envoy binds for the Gateway's port 443 (sent to the controller in the node metadata)")
	fs.IntVar(&f.readyPort, "ready-port", 0, "port of a listener answering GET /ready (200 once configured, 503 while draining) for probes; 0: none")
	fs.StringVar(&f.readyAddress, "ready-address", "0.0.0.0", "address of the --ready-port listener")
	fs.StringVar(&f.nodeID, "node-id", envoy.DefaultNodeID, "node.id of this Envoy (envoy --service-node overrides it, e.g. with the Pod name)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gatebridge envoy-bootstrap: unexpected arguments %v\n", fs.Args())
		return exitUsage
	}
	opts, err := f.options()
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge envoy-bootstrap: %v\n", err)
		return exitUsage
	}
	out, err := bootstrapYAML(opts)
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge envoy-bootstrap: %v\n", err)
		return exitUsage
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "gatebridge envoy-bootstrap: %v\n", err)
		return exitInternal
	}
	return exitOK
}

// options checks the flags and turns them into the bootstrap builder's options. The
// bootstrap waits for the xDS server for ever (InitialFetchTimeout 0), so Envoy is ready
// only once the controller configured it.
func (f bootstrapFlags) options() (envoy.BootstrapOptions, error) {
	if f.xdsServer == "" {
		return envoy.BootstrapOptions{}, errors.New("--xds-server HOST:PORT is required")
	}
	ports := map[string]int{"--admin-port": f.adminPort, "--http-port": f.httpPort, "--https-port": f.httpsPort}
	if f.readyPort != 0 {
		ports["--ready-port"] = f.readyPort
	}
	used := map[int]string{}
	for _, name := range []string{"--admin-port", "--http-port", "--https-port", "--ready-port"} {
		p, ok := ports[name]
		if !ok {
			continue
		}
		if p < 1 || p > 65535 {
			return envoy.BootstrapOptions{}, fmt.Errorf("%s %d is not a port (1-65535)", name, p)
		}
		if other, dup := used[p]; dup {
			return envoy.BootstrapOptions{}, fmt.Errorf("%s and %s are both %d", other, name, p)
		}
		used[p] = name
	}
	o := envoy.BootstrapOptions{
		NodeID:       f.nodeID,
		XDSAddress:   f.xdsServer,
		AdminAddress: net.JoinHostPort(f.adminAddress, strconv.Itoa(f.adminPort)),
		Runtime:      envoy.GatewayRuntime(),
		PortMap:      map[int32]uint32{80: uint32(f.httpPort), 443: uint32(f.httpsPort)},
	}
	if f.readyPort != 0 {
		o.ReadyAddress = net.JoinHostPort(f.readyAddress, strconv.Itoa(f.readyPort))
	}
	return o, nil
}

// bootstrapYAML is the bootstrap as YAML (keys sorted, so the output is stable).
func bootstrapYAML(o envoy.BootstrapOptions) ([]byte, error) {
	js, err := envoy.Bootstrap(o)
	if err != nil {
		return nil, err
	}
	out, err := yaml.JSONToYAML(js)
	if err != nil {
		return nil, fmt.Errorf("bootstrap as YAML: %w", err)
	}
	return out, nil
}
