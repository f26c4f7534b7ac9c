package httpstatus

import (
	"testing"

	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

func TestEnvoyErrorCodesAreEnvoys(t *testing.T) {
	for code := 0; code < 1000; code++ {
		_, inEnum := typev3.StatusCode_name[int32(code)]
		want := inEnum && code >= 400 && code <= 599
		if got := EnvoyAnswers(code); got != want {
			t.Errorf("EnvoyAnswers(%d) = %v, want %v (in Envoy's StatusCode enum: %v)", code, got, want, inEnum)
		}
	}
}
