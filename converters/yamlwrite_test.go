package converters

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestWriteYAMLRoundTrips: what writeYAML emits reads back as the same data.
func TestWriteYAMLRoundTrips(t *testing.T) {
	docs := []string{
		`{"a":"yes","b":"on","c":"123","d":"1.5","e":"","f":" lead","g":"x: y","h":"# c","i":"(?i)^(?:/a|/b).*","j":"line\nbreak","k":"<tag>&","l":"null","m":"~"}`,
		`{"list":[{"x":1,"y":[]},{"z":{}},[1,2],"s",true,null],"empty":{},"n":-3.25,"nested":{"deep":{"deeper":["a",{"k":"v"}]}}}`,
		`{"spec":{"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}}],"backendRefs":[{"name":"web","port":80,"weight":1}]}]}}`,
		`{"\"odd key\"":1,"on":2,"-dash":3,"*star":"&anchor","quote'":"it's"}`,
	}
	for _, d := range docs {
		var in map[string]any
		dec := json.NewDecoder(bytes.NewReader([]byte(d)))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		writeYAML(&b, in, 0)
		js, err := yaml.YAMLToJSON(b.Bytes())
		if err != nil {
			t.Fatalf("output is not YAML: %v\n%s", err, b.String())
		}
		var back, want map[string]any
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(d), &want)
		if !reflect.DeepEqual(back, want) {
			t.Errorf("round trip differs:\n%s\nwant %v\ngot  %v", b.String(), want, back)
		}
	}
}
