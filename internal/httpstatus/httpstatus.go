package httpstatus

// envoyErrorCodes are the 4xx and 5xx values of envoy.type.v3.StatusCode (Envoy 1.40;
// TestEnvoyErrorCodesAreEnvoys holds the list to go-control-plane's enum).
var envoyErrorCodes = [...]uint16{
	400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
	421, 422, 423, 424, 426, 428, 429, 431,
	500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
}

// EnvoyAnswers reports whether code is a 4xx or 5xx status Envoy's StatusCode enum holds.
func EnvoyAnswers(code int) bool {
	for _, c := range envoyErrorCodes {
		if int(c) == code {
			return true
		}
	}
	return false
}
