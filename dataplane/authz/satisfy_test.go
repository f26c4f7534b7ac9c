package authz

import (
	"net/http"
	"slices"
	"testing"
)

// The test client's address is 203.0.113.7 (req.build).

func TestSatisfyAnyAccessList(t *testing.T) {
	htpasswd := []byte("alice:$apr1$GL134CVQ$pK5oZ0vmUjdZ27/V8ornL/\n")
	s, _ := newServer(t, Options{}, map[string]Policy{
		"listed": {SatisfyAny: true, Access: &Access{Allow: []string{"203.0.113.0/24"}},
			Basic: &Basic{Realm: "r", Htpasswd: htpasswd}},
		"unlisted": {SatisfyAny: true, Access: &Access{Allow: []string{"10.0.0.0/8"}},
			Basic: &Basic{Realm: "r", Htpasswd: htpasswd}},
		"denied": {SatisfyAny: true, Access: &Access{Deny: []string{"203.0.113.7"}},
			Basic: &Basic{Realm: "r", Htpasswd: htpasswd}},
		"bad-list": {SatisfyAny: true, Access: &Access{Allow: []string{"10.0.0.0/33"}},
			Basic: &Basic{Realm: "r", Htpasswd: htpasswd}},
	})
	// The address passes: no credentials needed, and the upstream never sees any.
	resp := check(t, s, req{policy: "listed"})
	wantStatus(t, resp, http.StatusOK)
	if got := resp.GetOkResponse().GetHeadersToRemove(); !slices.Equal(got, []string{"authorization"}) {
		t.Errorf("headers_to_remove %v", got)
	}
	// The address fails, the credentials pass.
	wantStatus(t, check(t, s, req{policy: "unlisted", headers: map[string]string{"authorization": basicHeader("alice", "apr-secret")}}), http.StatusOK)
	// Both fail: basic auth's 401 wins over the list's 403.
	resp = check(t, s, req{policy: "unlisted"})
	wantStatus(t, resp, http.StatusUnauthorized)
	if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "www-authenticate", set); !slices.Equal(got, []string{`Basic realm="r"`}) {
		t.Errorf("WWW-Authenticate %v", got)
	}
	// A denylisted address with valid credentials is admitted (nginx: one passing handler).
	wantStatus(t, check(t, s, req{policy: "denied", headers: map[string]string{"authorization": basicHeader("alice", "apr-secret")}}), http.StatusOK)
	wantStatus(t, check(t, s, req{policy: "denied"}), http.StatusUnauthorized)
	// A missing Secret denies the location (503) even for a listed address.
	s2, _ := newServer(t, Options{}, map[string]Policy{"gone": {SatisfyAny: true, Access: &Access{Allow: []string{"203.0.113.0/24"}},
		Basic: &Basic{Realm: "r", FailClosed: "Secret x/y not found"}}})
	wantStatus(t, check(t, s2, req{policy: "gone"}), http.StatusServiceUnavailable)
	// A list that does not parse denies the location.
	wantStatus(t, check(t, s, req{policy: "bad-list"}), http.StatusServiceUnavailable)
}

func TestSatisfyAnyExternal(t *testing.T) {
	status := http.StatusUnauthorized
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) {
		if status == http.StatusOK {
			w.Header().Set("X-User", "bob")
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sso"`)
		}
		w.WriteHeader(status)
	})
	htpasswd := []byte("alice:$apr1$GL134CVQ$pK5oZ0vmUjdZ27/V8ornL/\n")
	ext := &External{URL: a.srv.URL + "/auth", ResponseHeaders: []string{"X-User"}}
	s, _ := newServer(t, Options{}, map[string]Policy{
		"listed":   {SatisfyAny: true, Access: &Access{Allow: []string{"203.0.113.7"}}, External: ext},
		"unlisted": {SatisfyAny: true, Access: &Access{Allow: []string{"10.0.0.0/8"}}, External: ext},
		"both":     {SatisfyAny: true, Basic: &Basic{Realm: "r", Htpasswd: htpasswd}, External: ext},
		"signin": {SatisfyAny: true, Access: &Access{Allow: []string{"10.0.0.0/8"}},
			External: &External{URL: a.srv.URL + "/auth", SignIn: "https://sso/start"}},
	})

	// The address passes: the auth service is not asked, its headers are not sent upstream.
	resp := check(t, s, req{policy: "listed", headers: map[string]string{"x-user": "forged"}})
	wantStatus(t, resp, http.StatusOK)
	if a.count() != 0 {
		t.Fatal("auth service called although the address passed")
	}
	if got := resp.GetOkResponse().GetHeadersToRemove(); !slices.Equal(got, []string{"x-user"}) {
		t.Errorf("headers_to_remove %v", got)
	}

	// The address fails, the service admits: its headers go upstream.
	status = http.StatusOK
	resp = check(t, s, req{policy: "unlisted"})
	wantStatus(t, resp, http.StatusOK)
	if got := headerValues(t, resp.GetOkResponse().GetHeaders(), "x-user", set); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("x-user %v", got)
	}

	// Both fail: the service's 401 and its challenge, not the list's 403.
	status = http.StatusUnauthorized
	resp = check(t, s, req{policy: "unlisted"})
	wantStatus(t, resp, http.StatusUnauthorized)
	if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "www-authenticate", appendAction); !slices.Equal(got, []string{`Bearer realm="sso"`}) {
		t.Errorf("WWW-Authenticate %v", got)
	}
	// The service's 403 and the list's 403: 403.
	status = http.StatusForbidden
	wantStatus(t, check(t, s, req{policy: "unlisted"}), http.StatusForbidden)
	// Any other answer of the service ends the request (500), as in nginx.
	status = http.StatusTeapot
	wantStatus(t, check(t, s, req{policy: "unlisted"}), http.StatusInternalServerError)

	// Basic and external both fail: both challenges, basic's first.
	status = http.StatusUnauthorized
	resp = check(t, s, req{policy: "both"})
	wantStatus(t, resp, http.StatusUnauthorized)
	if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "www-authenticate", appendAction); !slices.Equal(got, []string{`Basic realm="r"`, `Bearer realm="sso"`}) {
		t.Errorf("WWW-Authenticate %v", got)
	}
	// Basic passes: the service is not asked.
	n := a.count()
	wantStatus(t, check(t, s, req{policy: "both", headers: map[string]string{"authorization": basicHeader("alice", "apr-secret")}}), http.StatusOK)
	if a.count() != n {
		t.Error("auth service called although basic auth passed")
	}
	// With auth-signin the final 401 becomes the sign-in redirect.
	wantStatus(t, check(t, s, req{policy: "signin"}), http.StatusFound)
}
