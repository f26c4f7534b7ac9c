package goldencase

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// Options reads the first-line directive of a case. A case without one gets zero options;
// an unknown directive or a bad number is an error: the case would be converted with the
// wrong options.
func Options(in []byte) (converters.Options, sources.Options, error) {
	var o converters.Options
	var so sources.Options
	first, _, _ := bytes.Cut(in, []byte("\n"))
	line, ok := strings.CutPrefix(string(first), "# gatebridge:")
	if !ok {
		return o, so, nil
	}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "ingress-class":
			o.IngressClass = v
		case "include-unclassed":
			o.IncludeUnclassed = v == "true"
		case "annotations-prefix":
			o.AnnotationsPrefix = v
		case "gateway-name":
			o.GatewayName = v
		case "gateway-namespace":
			o.GatewayNamespace = v
		case "gateway-class":
			o.GatewayClassName = v
		case "default-certificate":
			o.DefaultCertificate = v
		case "max-listeners":
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, so, fmt.Errorf("bad max-listeners %q", v)
			}
			o.MaxListenersPerGateway = n
		case "bridge":
			o.Bridge = v == "true"
		case "portable":
			o.Portable = v == "true"
		case "previous-weights":
			// namespace/name:weight,…
			o.PreviousWeights = map[string]int{}
			for _, e := range strings.Split(v, ",") {
				k, w, ok := strings.Cut(e, ":")
				n, err := strconv.Atoi(w)
				if !ok || err != nil {
					return o, so, fmt.Errorf("bad previous-weights entry %q (want namespace/name:weight)", e)
				}
				o.PreviousWeights[k] = n
			}
		case "configmap":
			so.ConfigMap = v
		case "max-document-size", "max-file-size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return o, so, fmt.Errorf("bad %s %q", k, v)
			}
			if k == "max-document-size" {
				so.MaxDocumentSize = n
			} else {
				so.MaxFileSize = n
			}
		default:
			return o, so, fmt.Errorf("unknown directive %q (internal/goldencase knows the directives)", k)
		}
	}
	return o, so, nil
}
