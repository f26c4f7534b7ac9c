// Command corpus-refusals counts the Ingresses of the real-world corpus gatebridge refuses,
// each Ingress converted on its own (as a user would try them one by one) with
// --include-unclassed, once with no ingress-nginx ConfigMap and once with one that lets
// ingress-nginx run snippets (allow-snippet-annotations "true", annotations-risk-level
// Critical). It prints the refusals by reason: issue 17's figure.
//
//	go run ./hack/corpus-refusals [corpus directory]
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
)

func main() {
	dir := "test/corpus/real-world"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		fmt.Fprintf(os.Stderr, "corpus-refusals: no YAML in %s\n", dir)
		os.Exit(2)
	}
	ingresses, err := eachIngress(paths)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpus-refusals:", err)
		os.Exit(2)
	}
	allowing := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"},
		Data: map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"}}
	for _, run := range []struct {
		name string
		cm   *corev1.ConfigMap
	}{{"no ConfigMap (ingress-nginx v1.15.1 defaults)", nil}, {"ConfigMap allowing snippets", allowing}} {
		reasons := map[string]int{}
		refused, apiRejected := 0, 0
		for _, ing := range ingresses {
			in := converters.Input{Ingresses: []networkingv1.Ingress{ing}, ControllerConfigMap: run.cm}
			res := converters.Convert(in, converters.Options{IncludeUnclassed: true})
			for _, r := range res.Report.Ingresses {
				if r.Verdict != converters.VerdictRefused {
					continue
				}
				why := reason(r)
				if strings.HasPrefix(why, "the API server rejects") {
					apiRejected++
				} else {
					refused++
				}
				reasons[why]++
			}
		}
		fmt.Printf("%s: %d Ingresses, %d refused by gatebridge, %d the API server itself rejects\n", run.name, len(ingresses), refused, apiRejected)
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return reasons[keys[i]] > reasons[keys[j]] || reasons[keys[i]] == reasons[keys[j]] && keys[i] < keys[j]
		})
		for _, k := range keys {
			fmt.Printf("  %4d  %s\n", reasons[k], k)
		}
	}
}

// reason is the refused Ingress's "not converted (…)" finding, cut to its first reason and
// without the names of Secrets, so that equal reasons count together.
func reason(r converters.IngressReport) string {
	for _, f := range r.Findings {
		m, ok := strings.CutPrefix(f.Message, "not converted")
		if !ok {
			continue
		}
		m = strings.TrimLeft(m, " (:")
		if i := strings.IndexAny(m, ";)"); i > 0 {
			m = m[:i]
		}
		if strings.HasPrefix(m, "the API server rejects") {
			return "the API server rejects this Ingress (it can never exist in a cluster)"
		}
		if strings.HasPrefix(m, "auth-tls-secret ") {
			return "auth-tls-secret: CA Secret absent from the corpus (fails closed)"
		}
		return m
	}
	return "?"
}

// eachIngress reads every Ingress document of the files on its own: the corpus repeats
// namespace/name across repositories, which one read of the directory would merge.
func eachIngress(paths []string) ([]networkingv1.Ingress, error) {
	var out []networkingv1.Ingress
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, doc := range strings.Split("\n"+string(b), "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			loaded, err := sources.ReadPaths([]string{"-"}, sources.Options{Stdin: strings.NewReader(doc)})
			if err != nil {
				return nil, err
			}
			out = append(out, loaded.Input.Ingresses...)
		}
	}
	return out, nil
}
