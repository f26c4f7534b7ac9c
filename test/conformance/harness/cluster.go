package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ClusterOptions say where the binaries are and where the cluster keeps its files.
type ClusterOptions struct {
	// AssetsDir holds etcd, kube-apiserver and kube-controller-manager
	// (hack/conformance.sh prints it as KUBEBUILDER_ASSETS).
	AssetsDir string
	// WorkDir receives the data, certificates, kubeconfig and logs; it must exist.
	WorkDir string
	// CRDDirs are directories of CustomResourceDefinitions installed before Start
	// returns (other files in them are ignored).
	CRDDirs []string
	// Logf reports progress (nil: silent).
	Logf func(format string, args ...any)
}

// Cluster is etcd, kube-apiserver and kube-controller-manager as processes: enough
// Kubernetes for the conformance suite (Deployments → ReplicaSets → Pods, EndpointSlices,
// namespace deletion, garbage collection); Pods run on the process kubelet (Kubelet).
type Cluster struct {
	// Kubeconfig is a file with the admin token (user admin, group system:masters).
	Kubeconfig string
	// Config is the same as a rest.Config.
	Config *rest.Config
	// LogDir holds etcd.log, kube-apiserver.log and kube-controller-manager.log.
	LogDir string

	procs []*Process
}

// kubeControllers are the controllers the suite relies on; kube-controller-manager 1.37
// has no short names for them.
var kubeControllers = []string{
	"deployment-controller",
	"replicaset-controller",
	"endpointslice-controller",
	"endpointslice-mirroring-controller",
	"namespace-controller",
	"garbage-collector-controller",
	"serviceaccount-controller",
	"pod-garbage-collector-controller",
}

// StartCluster starts the three processes, waits until the API server is ready and
// installs opts.CRDDirs. On error everything started is stopped.
func StartCluster(ctx context.Context, opts ClusterOptions) (_ *Cluster, err error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(opts.AssetsDir, bin)); err != nil {
			return nil, fmt.Errorf("%s is missing in %q (run hack/conformance.sh): %w", bin, opts.AssetsDir, err)
		}
	}
	c := &Cluster{LogDir: filepath.Join(opts.WorkDir, "logs")}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	pki := filepath.Join(opts.WorkDir, "pki")
	for _, d := range []string{c.LogDir, pki, filepath.Join(opts.WorkDir, "etcd")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	ports, err := FreePorts(3)
	if err != nil {
		return nil, fmt.Errorf("finding free ports: %w", err)
	}
	etcdPort, peerPort, apiPort := ports[0], ports[1], ports[2]

	start := time.Now()
	etcdURL := "http://" + hostPort(etcdPort)
	etcd, err := StartProcess("etcd", c.LogDir, nil, filepath.Join(opts.AssetsDir, "etcd"),
		"--data-dir="+filepath.Join(opts.WorkDir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://"+hostPort(peerPort),
		"--unsafe-no-fsync=true")
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, etcd)
	if err := waitTCP(hostPort(etcdPort), etcd, 30*time.Second); err != nil {
		return nil, err
	}

	serving, err := writeServingCert(pki, "apiserver")
	if err != nil {
		return nil, err
	}
	saKey, err := writeServiceAccountKey(pki)
	if err != nil {
		return nil, err
	}
	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(pki, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return nil, err
	}
	apiURL := "https://" + hostPort(apiPort)
	// No --advertise-address=127.0.0.1 (loopback makes the endpoint reconciler exit):
	// --endpoint-reconciler-type=none instead. The API server reaches the kubelet at the
	// Node's InternalIP for pods/log.
	api, err := StartProcess("kube-apiserver", c.LogDir, nil, filepath.Join(opts.AssetsDir, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", apiPort),
		"--cert-dir="+pki,
		"--tls-cert-file="+serving.CertFile, "--tls-private-key-file="+serving.KeyFile,
		"--token-auth-file="+tokenFile,
		"--authorization-mode=RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--kubelet-preferred-address-types=InternalIP",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--service-account-issuer="+apiURL,
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--allow-privileged=true",
	)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, api)

	c.Config = &rest.Config{
		Host:            apiURL,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: serving.CertPEM},
		QPS:             200,
		Burst:           400,
	}
	c.Kubeconfig = filepath.Join(opts.WorkDir, "kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, apiURL, token, serving.CertPEM); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, c.Config, api, 60*time.Second); err != nil {
		return nil, err
	}
	logf("kube-apiserver ready at %s after %s", apiURL, time.Since(start).Round(time.Millisecond))

	kcm, err := StartProcess("kube-controller-manager", c.LogDir, nil, filepath.Join(opts.AssetsDir, "kube-controller-manager"),
		"--kubeconfig="+c.Kubeconfig,
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+saKey,
		"--secure-port=0",
		"--controllers="+strings.Join(kubeControllers, ","),
		// Pods are deleted by their kubelet; nothing here needs the defaults' patience.
		"--concurrent-deployment-syncs=10",
		"--concurrent-replicaset-syncs=10",
	)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, kcm)

	if len(opts.CRDDirs) > 0 {
		crds, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{
			Paths:              opts.CRDDirs,
			ErrorIfPathMissing: true,
			MaxTime:            time.Minute,
		})
		if err != nil {
			return nil, fmt.Errorf("installing CRDs from %v: %w", opts.CRDDirs, err)
		}
		logf("installed %d CRDs", len(crds))
	}
	if exited, werr := kcm.Exited(); exited {
		return nil, fmt.Errorf("kube-controller-manager exited (%v); see %s", werr, kcm.LogFile)
	}
	logf("cluster up in %s (logs in %s)", time.Since(start).Round(time.Millisecond), c.LogDir)
	return c, nil
}

// Clientset is a client of the cluster.
func (c *Cluster) Clientset() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(c.Config)
}

// Check returns an error when one of the cluster's processes has exited.
func (c *Cluster) Check() error {
	for _, p := range c.procs {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited (%v); see %s", p.Name, err, p.LogFile)
		}
	}
	return nil
}

// Stop stops the processes, the last started first.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].Stop(5 * time.Second)
	}
	c.procs = nil
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func writeKubeconfig(path, server, token string, ca []byte) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["conformance"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["conformance"] = &clientcmdapi.Context{Cluster: "conformance", AuthInfo: "admin"}
	cfg.CurrentContext = "conformance"
	return clientcmd.WriteToFile(*cfg, path)
}

// waitReady polls /readyz until the API server answers 200.
func waitReady(ctx context.Context, cfg *rest.Config, p *Process, timeout time.Duration) error {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: rt, Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if exited, werr := p.Exited(); exited {
			return fmt.Errorf("%s exited (%v); see %s", p.Name, werr, p.LogFile)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("kube-apiserver not ready after %s (last: %s); see %s", timeout, last, p.LogFile)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
