// Package conformance runs the official Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance v1.6.3, unmodified) against gatebridge, on a
// machine without a container runtime. It is a module of its own because the suite's
// module must be required together with sigs.k8s.io/gateway-api v1.6.3 and brings its own
// dependencies; the Makefile runs it with GOFLAGS=-mod=mod, as it does test/install.
//
// # Running it
//
//	make conformance                      # build/cache what is missing, self-test, suite, table
//	make conformance CONFORMANCE_ARGS='-- --run-test=HTTPRouteSimpleSameNamespace'
//	make conformance CONFORMANCE_ARGS='-channel experimental -keep'
//
// It needs root: every Pod gets its own network namespace. Without root the driver stops
// at once and TestHarness skips (it fails under CI=true). hack/conformance.sh builds
// kube-controller-manager v1.37.1 from Go modules next to hack/envtest.sh's etcd and
// kube-apiserver (~5–6 min cold on 2 cores, cached in
// ~/.cache/gatebridge/envtest/k8s-1.37.1-etcd-3.6.16-linux-amd64), and echo-basic (the
// suite's backend, from the module pinned here) and gatebridge into .cache/conformance/bin.
//
// # What runs
//
// The cluster (package harness): etcd, kube-apiserver and kube-controller-manager as
// processes on free ports of 127.0.0.1, with an admin token (group system:masters) in
// <work>/kubeconfig. kube-controller-manager runs the deployment, replicaset,
// endpointslice(-mirroring), namespace, garbage-collector, serviceaccount and pod-gc
// controllers. The Gateway API CRDs come from manifests/gateway-api (standard channel) or,
// with -channel experimental, from the v1.6.3 module's config/crd/experimental; gatebridge's
// own CRDs from manifests/crds.
//
// The process kubelet (harness.Kubelet) registers one Ready Node (InternalIP 127.0.0.1),
// binds every unscheduled Pod to it, and gives each Pod a network namespace with a veth on
// the bridge gbconf0 (10.244.0.0/16; the host holds 10.244.0.1, so the suite and Envoy
// reach every Pod IP directly). Containers whose image names echo-basic run the echo-basic
// binary there with the Pod's env (fieldRefs, Secret/ConfigMap keys) and its Secret and
// ConfigMap volumes written to a per-Pod directory (env values pointing into a mount are
// rewritten to it); other images (the suite's coredns) are reported Ready without running.
// A Pod is Ready once its port answers. The kubelet serves pods/log
// (/containerLogs/{ns}/{pod}/{container}, sinceTime, tailLines, timestamps) over TLS for
// the API server, restarts exited containers, confirms deletions (namespace deletion
// works) and removes every namespace, veth and the bridge when it stops; leftovers of a
// killed run are removed at the next start. One harness runs at a time per machine (a
// lock in $TMPDIR).
//
// The driver (cmd/gatebridge-conformance) starts the cluster and the kubelet, then
// `gatebridge controller` (health, metrics, xDS and authz on free ports of 127.0.0.1; with
// --gateway-address-pool 127.0.1.0/24 when the controller lists that flag) and Envoy from
// `gatebridge envoy-bootstrap`, creates the GatewayClass gatebridge-conformance
// (controllerName gatebridge.dev/gateway-controller), waits until it is Accepted with
// supportedFeatures, and runs TestConformance in this package with the suite's own flags:
// --gateway-class, --conformance-profiles=GATEWAY-HTTP, --report-output and the
// implementation fields. The suite reads the features from the GatewayClass status; the
// harness passes no --supported-features list. Flags after -- go to the suite unchanged.
// It prints a table (test, feature — the extended features a test needs, or "core" —,
// result), writes the ConformanceReport to .cache/conformance/report.yaml (-report
// conformance/reports/v1.6.3/gatebridge.yaml for the committed one) and the table as
// Markdown to .cache/conformance/run/table.md, and keeps every log under
// .cache/conformance/run/logs (etcd, kube-apiserver, kube-controller-manager, kubelet,
// gatebridge, envoy), the suite's output in run/suite.log and each container's output
// under run/pods. When the GatewayClass claims GatewayStaticAddresses, the driver passes
// --usable-address 127.0.1.254 (inside the pool) and --unusable-address 127.0.2.254.
//
// Measured on 2 shared cores: cluster + CRDs + kubelet 4–6 s; the suite's 23 base Pods
// Ready within 4.5 s of being applied; TestHarness 24 s.
package conformance
