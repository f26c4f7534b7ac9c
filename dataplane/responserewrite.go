package dataplane

import (
	"fmt"
	"strings"

	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// filterResponseRewrite rewrites the backend's Location, Refresh and Set-Cookie headers of
// the routes with proxy-redirect-* / proxy-cookie-* (nginx's proxy_redirect,
// proxy_cookie_domain, proxy_cookie_path). Each such route carries its own Lua source with
// the literal values; virtual hosts turn the filter off.
const filterResponseRewrite = "gatebridge.response_rewrite"

// responseRewriteLua is the route-independent part; the route's source starts with the
// values (redirect_from/_to, domain_from/_to, path_from/_to; nil when unset).
const responseRewriteLua = `
-- proxy_redirect / proxy_cookie_path: a case-sensitive prefix replaced.
local function prefix(v, from, to)
  if from and v:sub(1, #from) == from then return to .. v:sub(#from + 1), true end
  return v, false
end

-- proxy_cookie_domain: the whole value, any case, a leading dot ignored and kept.
local function domain(v)
  local dot = ""
  if v:sub(1, 1) == "." then dot, v = ".", v:sub(2) end
  if v:lower() == domain_from:lower() then return dot .. domain_to, true end
  return dot .. v, false
end

local function rewrite_cookie(c)
  local out, changed = {}, false
  local first = true
  for part in (c .. ";"):gmatch("([^;]*);") do
    if first then
      out[#out + 1] = part
      first = false
    else
      local sp, name, value = part:match("^(%s*)([^=]+)=(.*)$")
      local ok = false
      if name and domain_from and name:lower() == "domain" then
        value, ok = domain(value)
      elseif name and path_from and name:lower() == "path" then
        value, ok = prefix(value, path_from, path_to)
      end
      if ok then
        changed = true
        part = sp .. name .. "=" .. value
      end
      out[#out + 1] = part
    end
  end
  return table.concat(out, ";"), changed
end

function envoy_on_response(response)
  local h = response:headers()
  if redirect_from then
    local loc = h:get("location")
    if loc then
      local new, ok = prefix(loc, redirect_from, redirect_to)
      if ok then h:replace("location", new) end
    end
    local refresh = h:get("refresh")
    if refresh then
      local _, e = refresh:lower():find("url=", 1, true)
      if e then
        local new, ok = prefix(refresh:sub(e + 1), redirect_from, redirect_to)
        if ok then h:replace("refresh", refresh:sub(1, e) .. new) end
      end
    end
  end
  if domain_from or path_from then
    local cookies, changed = {}, false
    for k, v in pairs(h) do
      if k == "set-cookie" then
        local new, ok = rewrite_cookie(v)
        changed = changed or ok
        cookies[#cookies + 1] = new
      end
    end
    if changed then
      h:remove("set-cookie")
      for _, c in ipairs(cookies) do h:add("set-cookie", c) end
    end
  end
end
`

// responseRewriteFilter has no default source: it only runs where a route gives one.
func responseRewriteFilter() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: filterResponseRewrite, ConfigType: typed(&luav3.Lua{})}
}

// responseRewritePerRoute is the route's Lua: its literal values, then the shared code.
func responseRewritePerRoute(p *v1alpha1.ResponseRewritePolicy) *anypb.Any {
	var b strings.Builder
	pair := func(name string, rw *v1alpha1.HeaderRewrite) {
		if rw == nil {
			fmt.Fprintf(&b, "local %s_from, %s_to = nil, nil\n", name, name)
			return
		}
		from, to := rw.From, rw.To
		if name == "domain" {
			// nginx compares and writes domains without their leading dot.
			from, to = strings.TrimPrefix(from, "."), strings.TrimPrefix(to, ".")
		}
		fmt.Fprintf(&b, "local %s_from, %s_to = %s, %s\n", name, name, luaString(from), luaString(to))
	}
	b.WriteString("-- gatebridge: proxy_redirect, proxy_cookie_domain, proxy_cookie_path.\n")
	pair("redirect", p.Redirect)
	pair("domain", p.CookieDomain)
	pair("path", p.CookiePath)
	b.WriteString(responseRewriteLua)
	return mustAny(&luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_SourceCode{
		SourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: b.String()}}}})
}

// luaString quotes s as a Lua string literal: every byte outside printable ASCII, the
// quote and the backslash is written as a decimal escape, so no value can end the literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			fmt.Fprintf(&b, "\\%03d", c)
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}
