package converters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// EncodeObjects writes objs as a multi-document YAML stream ("yaml") or a v1 List ("json").
// Status and empty creation timestamps are left out: the output is what a user applies.
// Objects are encoded on all cores; the bytes only depend on the objects.
func EncodeObjects(w io.Writer, objs []client.Object, format string) error {
	docs := make([][]byte, len(objs))
	errs := make([]error, len(objs))
	parallel.For(len(objs), func(i int) { docs[i], errs[i] = encodeOne(objs[i], format) })
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("encoding %s %s/%s: %w", objs[i].GetObjectKind().GroupVersionKind().Kind, objs[i].GetNamespace(), objs[i].GetName(), err)
		}
	}
	switch format {
	case "yaml", "":
		for i, d := range docs {
			if i > 0 {
				if _, err := io.WriteString(w, "---\n"); err != nil {
					return err
				}
			}
			if _, err := w.Write(d); err != nil {
				return err
			}
		}
		return nil
	case "json":
		var buf bytes.Buffer
		buf.WriteString("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [")
		for i, d := range docs {
			if i > 0 {
				buf.WriteString(",")
			}
			buf.WriteString("\n    ")
			buf.Write(bytes.ReplaceAll(bytes.TrimSpace(d), []byte("\n"), []byte("\n    ")))
		}
		buf.WriteString("\n  ]\n}\n")
		_, err := w.Write(buf.Bytes())
		return err
	}
	return fmt.Errorf("unknown output format %q (accepted: yaml, json)", format)
}

// encodeOne encodes one object without status and null timestamps.
func encodeOne(obj client.Object, format string) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		if md["creationTimestamp"] == nil {
			delete(md, "creationTimestamp")
		}
	}
	if format == "json" {
		return json.MarshalIndent(m, "", "  ")
	}
	var b bytes.Buffer
	b.Grow(len(raw) * 2)
	writeYAML(&b, m, 0)
	return b.Bytes(), nil
}
