package bridge

import (
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// TestSticky: with gatebridge.dev/sticky "true" at weight 50, each new client gets a
// gatebridge-bucket cookie (Path=/, HttpOnly) on its first response, whichever side served
// it, and keeps its side on every later request: native exactly when its bucket is below
// the weight. Raising the weight to 100 moves every client to Envoy.
func TestSticky(t *testing.T) {
	const ns = "bridge"
	sticky := func(weight int) string {
		return service(ns, "sticky") + ingress(ns, "sticky", "sticky.example.com", "/", "sticky",
			migrateWeight(weight)+`, gatebridge.dev/sticky: "true"`, "")
	}
	r := startRun(t, map[string]string{"sticky.yaml": sticky(50)})
	const clients, requests = 24, 8
	type clientState struct {
		c      *http.Client
		bucket int
		native bool
	}
	var states []clientState
	sides := map[bool]int{}
	for i := 0; i < clients; i++ {
		c := r.client()
		jar, _ := cookiejar.New(nil)
		c.Jar = jar
		st := clientState{c: c, bucket: -1}
		for n := 0; n < requests; n++ {
			res := get(t, c, "http://sticky.example.com/page")
			if res.status != http.StatusOK || res.backend == nil {
				t.Fatalf("client %d request %d: %s", i, n, res)
			}
			setCookie := cookieValue(res.header, v1alpha1.BucketCookie)
			native := !res.fallback()
			if n == 0 {
				b, err := strconv.Atoi(setCookie.value)
				if err != nil || b < 0 || b > 99 {
					t.Fatalf("client %d: first response's Set-Cookie %s=%q, want a bucket 0…99 (headers %v)", i, v1alpha1.BucketCookie, setCookie.value, res.header.Values("Set-Cookie"))
				}
				if !setCookie.httpOnly || setCookie.path != "/" {
					t.Errorf("client %d: Set-Cookie %q, want Path=/ and HttpOnly", i, setCookie.raw)
				}
				st.bucket, st.native = b, native
				if native != (b < 50) {
					t.Errorf("client %d with bucket %d was served natively=%v at weight 50, want native exactly when the bucket is below 50", i, b, native)
				}
				sides[native]++
				continue
			}
			if setCookie.raw != "" {
				t.Errorf("client %d request %d: the cookie was set again (%q) although the client sent it", i, n, setCookie.raw)
			}
			if native != st.native {
				t.Fatalf("client %d (bucket %d) switched sides on request %d: native=%v, first native=%v", i, st.bucket, n, native, st.native)
			}
		}
		states = append(states, st)
	}
	t.Logf("weight 50, sticky: %d clients native, %d through nginx", sides[true], sides[false])

	r.change(func() { r.write("sticky.yaml", sticky(100)) })
	for i, st := range states {
		res := get(t, st.c, "http://sticky.example.com/page")
		if res.status != http.StatusOK || res.backend == nil || res.fallback() {
			t.Errorf("client %d (bucket %d) at weight 100: %s, fallback=%v; want served natively", i, st.bucket, res, res.fallback())
		}
	}
}

type setCookie struct {
	raw, value, path string
	httpOnly         bool
}

// cookieValue finds the Set-Cookie response header for name.
func cookieValue(h http.Header, name string) setCookie {
	for _, raw := range h.Values("Set-Cookie") {
		parts := strings.Split(raw, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(parts[0]), "=")
		if !ok || k != name {
			continue
		}
		sc := setCookie{raw: raw, value: v}
		for _, attr := range parts[1:] {
			a := strings.TrimSpace(attr)
			switch {
			case strings.EqualFold(a, "HttpOnly"):
				sc.httpOnly = true
			case strings.HasPrefix(strings.ToLower(a), "path="):
				sc.path = a[len("path="):]
			}
		}
		return sc
	}
	return setCookie{}
}
