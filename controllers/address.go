package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Where clients reach the Envoy fleet: the shared Gateway's status.addresses and, for the
// Ingresses of the gatebridge IngressClass (drop-in), status.loadBalancer.ingress — what
// ingress-nginx shows for its own Ingresses. It is Options.GatewayAddress when given (runs
// outside a cluster), else the address of the Envoy Service (Options.EnvoyService): its
// load balancer's IPs and hostnames, else its cluster IPs.

// DefaultEnvoyService is the Envoy fleet's Service the manifests and the chart install.
const DefaultEnvoyService = "gatebridge-system/gatebridge-envoy"

// envoyServiceKey splits Options.EnvoyService ("namespace/name").
func (o Options) envoyServiceKey() (client.ObjectKey, error) {
	ns, name, ok := strings.Cut(o.EnvoyService, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return client.ObjectKey{}, fmt.Errorf("--envoy-service %q: want namespace/name", o.EnvoyService)
	}
	return client.ObjectKey{Namespace: ns, Name: name}, nil
}

// serviceAddresses are the addresses a Service is reached at, in its own order: the load
// balancer's IPs and hostnames once it has them, else the cluster IPs.
func serviceAddresses(svc *corev1.Service) []string {
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		switch {
		case in.IP != "":
			out = append(out, in.IP)
		case in.Hostname != "":
			out = append(out, in.Hostname)
		}
	}
	if len(out) > 0 {
		return out
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if ip != corev1.ClusterIPNone && ip != "" {
			out = append(out, ip)
		}
	}
	return out
}

// envoyAddresses reads the addresses of the Envoy fleet (nil while its Service is absent).
func envoyAddresses(ctx context.Context, c client.Reader, o Options) ([]string, error) {
	if o.GatewayAddress != "" {
		return []string{o.GatewayAddress}, nil
	}
	if o.GatewayAddressPool != "" {
		return sharedGatewayAddresses(ctx, c, o)
	}
	key, err := o.envoyServiceKey()
	if err != nil {
		return nil, err
	}
	var svc corev1.Service
	switch err := c.Get(ctx, key, &svc); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the Envoy Service %s: %w", key, err)
	}
	return serviceAddresses(&svc), nil
}

// sharedGatewayAddresses are the addresses the shared Gateway's status shows (with an
// address pool, the status writer writes its pool address there).
func sharedGatewayAddresses(ctx context.Context, c client.Reader, o Options) ([]string, error) {
	o = o.withDefaults()
	var gw gwv1.Gateway
	key := client.ObjectKey{Namespace: o.Converter.GatewayNamespace, Name: o.Converter.GatewayName}
	switch err := c.Get(ctx, key, &gw); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the Gateway %s: %w", key, err)
	}
	var out []string
	for _, a := range gw.Status.Addresses {
		out = append(out, a.Value)
	}
	return out, nil
}

// gatewayStatusAddresses are addrs as a Gateway's status.addresses.
func gatewayStatusAddresses(addrs []string) []gwv1.GatewayStatusAddress {
	var out []gwv1.GatewayStatusAddress
	for _, a := range addrs {
		t := gwv1.IPAddressType
		if net.ParseIP(a) == nil {
			t = gwv1.HostnameAddressType
		}
		out = append(out, gwv1.GatewayStatusAddress{Type: &t, Value: a})
	}
	return out
}

// loadBalancerIngress is addrs as an Ingress's status.loadBalancer.ingress.
func loadBalancerIngress(addrs []string) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	for _, a := range addrs {
		if net.ParseIP(a) != nil {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			out = append(out, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	return out
}

// sameLoadBalancer compares the addresses of two status.loadBalancer.ingress lists (the
// ports, which gatebridge does not set, included).
func sameLoadBalancer(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y networkingv1.IngressLoadBalancerIngress) bool {
		return x.IP == y.IP && x.Hostname == y.Hostname && len(x.Ports) == 0 && len(y.Ports) == 0
	})
}

// writeLoadBalancers writes status.loadBalancer.ingress of the drop-in Ingresses: the
// Envoy fleet's address while the Ingress is served, none otherwise. A merge patch of the
// status subresource, only when it differs from the live one (or from what this writer
// wrote last, while the cache has not caught up).
func (w *Writer) writeLoadBalancers(ctx context.Context, plan *Plan, res *PassResult) []error {
	var addrs []string
	read := false
	var errs []error
	for _, ip := range plan.Ingresses {
		if !ip.DropIn {
			continue
		}
		if !read {
			var err error
			if addrs, err = envoyAddresses(ctx, w.client, w.opts); err != nil {
				return []error{err}
			}
			read = true
		}
		var want []networkingv1.IngressLoadBalancerIngress
		if ip.State == StateMigrated {
			want = loadBalancerIngress(addrs)
		}
		ing := ip.Ingress
		if sameLoadBalancer(ing.Status.LoadBalancer.Ingress, want) {
			continue
		}
		key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
		hash := fmt.Sprint(want)
		if rec := w.loadBalancers[key]; rec.hash == hash && rec.rv != 0 {
			if rv, err := strconv.ParseInt(ing.ResourceVersion, 10, 64); err == nil && rv <= rec.rv {
				continue // written already; the cache has not caught up
			}
		}
		updated := ing.DeepCopy()
		updated.Status.LoadBalancer.Ingress = want
		res.LoadBalancers++
		err := w.client.Status().Patch(ctx, updated, client.MergeFrom(ing))
		countWrite("Ingress", "status", err)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("writing the status of Ingress %s: %w", key, err))
		default:
			if rv, err := strconv.ParseInt(updated.ResourceVersion, 10, 64); err == nil {
				w.loadBalancers[key] = written{rv, hash}
			}
			w.log.Info("load balancer status written", "ingress", key.String(), "addresses", addrs)
		}
	}
	return errs
}

// checkAddressOptions validates EnvoyService and GatewayAddress.
func (o Options) checkAddressOptions() error {
	if _, err := o.envoyServiceKey(); err != nil {
		return err
	}
	if a := o.GatewayAddress; a != "" && net.ParseIP(a) == nil && len(validation.IsDNS1123Subdomain(a)) > 0 {
		return fmt.Errorf("--gateway-address %q: want an IP address or a hostname", a)
	}
	if o.GatewayAddressPool != "" {
		if o.GatewayAddress != "" {
			return errors.New("--gateway-address and --gateway-address-pool: give one (the pool gives each Gateway its own address)")
		}
		if _, err := ParseAddressPool(o.GatewayAddressPool); err != nil {
			return err
		}
	}
	return nil
}
