package annotations

func init() {
	legacy := func(name, note string) Spec {
		return Spec{Name: name, Family: "legacy", Level: Legacy, Note: note}
	}
	register(
		legacy("secure-backends", "Removed from ingress-nginx in 2018 and ignored since; use backend-protocol: HTTPS."),
		legacy("grpc-backend", "Removed from ingress-nginx in 2018 and ignored since; use backend-protocol: GRPC."),
		legacy("add-base-url", "Removed from ingress-nginx in 0.22 (2018) and ignored since."),
		legacy("base-url-scheme", "Removed from ingress-nginx in 0.22 (2018) and ignored since."),
		legacy("session-cookie-hash", "Removed from ingress-nginx in 2019 and ignored since."),
		legacy("upstream-max-fails", "Removed from ingress-nginx in 2018 and ignored since."),
		legacy("upstream-fail-timeout", "Removed from ingress-nginx in 2018 and ignored since."),
		legacy("lua-resty-waf", "lua-resty-waf was removed from ingress-nginx in 2019; ignored since."),
		legacy("lua-resty-waf-debug", "lua-resty-waf was removed from ingress-nginx in 2019; ignored since."),
		legacy("lua-resty-waf-ignore-rulesets", "lua-resty-waf was removed from ingress-nginx in 2019; ignored since."),
		legacy("lua-resty-waf-extra-rules", "lua-resty-waf was removed from ingress-nginx in 2019; ignored since."),
		legacy("lua-resty-waf-allow-unknown-content-types", "lua-resty-waf was removed from ingress-nginx in 2019; ignored since."),
		legacy("lua-resty-waf-score-threshold", "lua-resty-waf was removed from ingress-nginx in 2019; ignored since."),
		legacy("lua-resty-waf-process-multipart-body", "lua-resty-waf was removed from ingress-nginx in 2019; ignored since."),
		legacy("mirror-uri", "Replaced by mirror-target in 2020; ignored since."),
		legacy("proxy-ssl-session-reuse", "Existed briefly in 2019; ignored since."),
		legacy("enable-opentracing", "OpenTracing was removed from ingress-nginx in 2023; ignored since."),
		legacy("opentracing-trust-incoming-span", "OpenTracing was removed from ingress-nginx in 2023; ignored since."),
		legacy("enable-influxdb", "Deprecated; ingress-nginx only warns and ignores it."),
		legacy("influxdb-measurement", "Deprecated; ingress-nginx only warns and ignores it."),
		legacy("influxdb-port", "Deprecated; ingress-nginx only warns and ignores it."),
		legacy("influxdb-host", "Deprecated; ingress-nginx only warns and ignores it."),
		legacy("influxdb-server-name", "Deprecated; ingress-nginx only warns and ignores it."),
		legacy("secure-verify-ca-secret", "Deprecated; ingress-nginx only warns and ignores it."),
		legacy("global-rate-limit", "Removed from ingress-nginx in 2024 and ignored since; use limit-rps."),
		legacy("global-rate-limit-window", "Removed from ingress-nginx in 2024 and ignored since."),
		legacy("global-rate-limit-key", "Removed from ingress-nginx in 2024 and ignored since."),
		legacy("global-rate-limit-ignored-cidrs", "Removed from ingress-nginx in 2024 and ignored since."),
		legacy("server-snippets", "Never an annotation (typo of server-snippet); ingress-nginx ignores it."),
		legacy("proxy-buffers", "Never an annotation (ConfigMap-style name); ingress-nginx ignores it."),
		legacy("large-client-header-buffers", "A ConfigMap key, never an annotation; ingress-nginx ignores it."),
		legacy("proxy-cache", "Never an annotation; ingress-nginx ignores it."),
		legacy("add-header", "Never an annotation; ingress-nginx ignores it."),
		legacy("use-forwarded-headers", "A ConfigMap key, never an annotation; ingress-nginx ignores it."),
	)
}
