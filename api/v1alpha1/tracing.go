package v1alpha1

import "regexp"

// OperationNameVariable finds the nginx variables ($name, ${name}) of a span name.
var OperationNameVariable = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// operationNameVariables are the nginx variables a TracingPolicy operationName may use:
// the data plane evaluates them per request, or per route for the last three.
var operationNameVariables = map[string]bool{
	"request_method": true, "request_uri": true, "uri": true, "scheme": true, "http_host": true,
	"remote_addr": true, "request_id": true, "service_name": true, "service_port": true, "namespace": true,
}

// OperationNameUnknownVariables lists the variables of a span name that the data plane
// does not evaluate (any $http_<name> is evaluated), in order of appearance.
func OperationNameUnknownVariables(name string) []string {
	var out []string
	for _, m := range OperationNameVariable.FindAllStringSubmatch(name, -1) {
		v := m[1]
		if !operationNameVariables[v] && !(len(v) > len("http_") && v[:len("http_")] == "http_") {
			out = append(out, "$"+v)
		}
	}
	return out
}
