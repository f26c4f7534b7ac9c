package dataplane

import (
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// The affinity cookie's attributes that Envoy's cookie hash policy cannot write itself.
// Envoy writes the cookie (name, quoted value, Max-Age from the TTL, Path, static
// attributes, HttpOnly); ingress-nginx's sticky.lua also writes Expires = now + N
// (session-cookie-expires), which is only known per response. The route therefore gives
// the cookie a placeholder attribute "Expires=gatebridge-in-<N>s" and turns on a Lua
// filter that replaces it with the date, in nginx's cookie_time format.
const (
	filterAffinityCookie = "gatebridge.affinity_cookie"
	affinityCookieSource = "affinity"
)

// With session-cookie-conditional-samesite-none the cookie's SameSite attribute is the
// placeholder "SameSite=gatebridge-conditional-none": the request side records whether the
// user agent is one ingress-nginx's util/same_site.lua knows to reject SameSite=None, and
// the response side writes SameSite=None or drops the attribute accordingly.
const sameSiteNonePlaceholder = "gatebridge-conditional-none"

const affinityCookieLua = `-- gatebridge: the affinity cookie Envoy generated, completed or dropped.
-- ingress-nginx util/same_site.lua: user agents that reject SameSite=None cookies.
local function same_site_none_compatible(ua)
  if not ua then
    return true
  elseif string.find(ua, "Chrome/4", 1, true) or string.find(ua, "Chrome/5", 1, true)
      or string.find(ua, "Chrome/6", 1, true) then
    return false
  elseif string.find(ua, "CPU iPhone OS 12", 1, true) or string.find(ua, "iPad; CPU OS 12", 1, true) then
    return false
  elseif string.find(ua, "Macintosh", 1, true) and string.find(ua, "Intel Mac OS X 10_14", 1, true)
      and string.find(ua, "Safari", 1, true) and not string.find(ua, "Chrome", 1, true) then
    return false
  end
  return true
end

function envoy_on_request(request)
  if not same_site_none_compatible(request:headers():get("user-agent")) then
    request:streamInfo():dynamicMetadata():set("` + filterAffinityCookie + `", "samesite_none", "omit")
  end
end

function envoy_on_response(response)
  local headers = response:headers()
  local md = response:streamInfo():dynamicMetadata():get("` + filterAffinityCookie + `")
  local samesite = "; SameSite=None"
  if md and md["samesite_none"] == "omit" then samesite = "" end
  -- A legacy canary's answer: no affinity cookie (the cookie's name is the value).
  local drop = headers:get("` + noAffinityCookieHeader + `")
  local cookies, changed = {}, false
  if drop then
    headers:remove("` + noAffinityCookieHeader + `")
    drop = drop .. '="'
  end
  for k, v in pairs(headers) do
    if k == "set-cookie" then
      if drop and v:sub(1, #drop) == drop then
        changed = true
      else
        local out = v:gsub("; Expires=gatebridge%-in%-(%d+)s", function(n)
          -- ngx.cookie_time: "Thu, 18-Nov-10 11:27:35 GMT"
          return "; Expires=" .. os.date("!%a, %d-%b-%y %H:%M:%S GMT", os.time() + tonumber(n))
        end)
        out = out:gsub("; SameSite=gatebridge%-conditional%-none", function() return samesite end)
        if out ~= v then changed = true end
        cookies[#cookies + 1] = out
      end
    end
  end
  if changed then
    headers:remove("set-cookie")
    for _, c in ipairs(cookies) do headers:add("set-cookie", c) end
  end
end
`

// affinityCookieFilter is on only for routes whose affinity cookie has an Expires
// attribute; virtual hosts turn it off (vhostFilterDefaults).
func affinityCookieFilter() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: filterAffinityCookie, ConfigType: typed(&luav3.Lua{
		DefaultSourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: affinityCookieLua}},
		SourceCodes: map[string]*corev3.DataSource{
			affinityCookieSource: {Specifier: &corev3.DataSource_InlineString{InlineString: affinityCookieLua}},
		},
	})}
}

// affinityCookieOn turns the filter on for one route (a route's configuration wins over its
// virtual host's "disabled").
var affinityCookieOn = mustAny(&luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Name{Name: affinityCookieSource}})

// noAffinityCookieHeader marks, on a legacy canary's answer (the weighted cluster adds
// it), that the affinity cookie Envoy generated must go; the Lua filter removes both. Envoy
// writes the cookie's value quoted (name="…"), which tells it from a backend's own cookie
// of the same name.
const noAffinityCookieHeader = "x-gatebridge-no-affinity-cookie"

// needsAffinityLua reports whether a policy's cookie carries an attribute only the Lua
// filter can complete, or some backend's answers must lose it.
func needsAffinityLua(p *v1alpha1.SessionAffinityPolicy) bool {
	return p != nil && (p.ExpiresSeconds != nil || len(p.NoCookieBackends) > 0 || conditionalSameSiteNone(p))
}

// conditionalSameSiteNone reports whether the cookie's SameSite=None depends on the user
// agent (sticky.lua applies the rule only to SameSite None).
func conditionalSameSiteNone(p *v1alpha1.SessionAffinityPolicy) bool {
	return p.ConditionalSameSiteNone && p.SameSite == "None"
}

// noAffinityCookie reports whether ref (of a route in namespace ns) is a backend whose
// answers set no affinity cookie (affinity-canary-behavior: legacy on its canary Ingress).
func noAffinityCookie(ep *effectivePolicy, ns string, ref gwv1.HTTPBackendRef) bool {
	sa := ep.spec.SessionAffinity
	if sa == nil || len(sa.NoCookieBackends) == 0 || ref.Port == nil {
		return false
	}
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
		return false
	}
	refNS := ns
	if ref.Namespace != nil {
		refNS = string(*ref.Namespace)
	}
	policyNS := ns
	for _, b := range sa.NoCookieBackends {
		bNS := b.Namespace
		if bNS == "" {
			bNS = policyNS
		}
		if b.Name == string(ref.Name) && bNS == refNS && b.Port == int32(*ref.Port) {
			return true
		}
	}
	return false
}

func expiresPlaceholder(seconds int64) string {
	return "gatebridge-in-" + strconv.FormatInt(seconds, 10) + "s"
}
