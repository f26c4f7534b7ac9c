package annotations

import (
	"fmt"
	"strconv"
	"strings"
)

// Finding is one observation about one annotation of one Ingress.
type Finding struct {
	// Annotation is the name without prefix ("" for findings about the whole set).
	Annotation string `json:"annotation"`
	// Value as written (may be truncated for display by renderers).
	Value string `json:"value,omitempty"`
	// Level of support for this use of the annotation.
	Level Level `json:"level"`
	// Invalid is true when the value did not validate.
	Invalid bool `json:"invalid,omitempty"`
	// Warning is true for a valid value a person should look at (e.g. an auth-url on a
	// cloud metadata address).
	Warning bool `json:"warning,omitempty"`
	// Message says what happens and, for problems, what to do.
	Message string `json:"message"`
}

// rejectsIngress are the annotations whose invalid value makes ingress-nginx reject the
// whole Ingress (their parsers return the error) instead of falling
// back to the default.
var rejectsIngress = map[string]bool{
	"limit-rps": true, "limit-rpm": true, "limit-burst-multiplier": true, "limit-connections": true,
	"limit-rate": true, "limit-rate-after": true, "limit-allowlist": true, "limit-whitelist": true,
	"permanent-redirect": true, "temporal-redirect": true, "from-to-www-redirect": true,
	"upstream-hash-by": true, "upstream-hash-by-subset": true, "upstream-hash-by-subset-size": true,
	// opentelemetry/main.go returns its validation error (read only with enable-opentelemetry).
	"opentelemetry-operation-name": true,
}

// reader reads one Ingress's annotations and records findings. Each annotation read
// through it is marked as seen, so Parse can report the remaining ones.
type reader struct {
	values   map[string]string // name (without prefix) → value
	seen     map[string]bool
	findings []Finding
	// failClosed is set when a security-sensitive annotation is invalid.
	failClosed []string
	// refused lists refused annotations present.
	refused []string
	// rejected is set when ingress-nginx would reject the whole Ingress.
	rejected bool
}

func newReader(values map[string]string) *reader {
	return &reader{values: values, seen: map[string]bool{}}
}

// has reports whether the annotation is present (even if empty).
func (r *reader) has(name string) bool {
	_, ok := r.values[name]
	return ok
}

// raw returns the trimmed value and whether it is present and non-empty. ingress-nginx
// trims every line of a value and treats an empty value as "invalid content".
func (r *reader) raw(name string) (string, bool) {
	v, ok := r.values[name]
	if !ok {
		return "", false
	}
	r.seen[name] = true
	clean := readValue(name, v)
	if err := rejectControlChars(clean); err != nil {
		r.invalid(name, v, err.Error())
		return "", false
	}
	if clean == "" {
		r.invalid(name, v, "is empty; ingress-nginx treats an empty value as not set")
		return "", false
	}
	return clean, true
}

// elementTrimmedLists are the annotations whose ingress-nginx parser trims every
// comma-separated element (net.ParseCIDRs: TrimSpace around each entry), so line breaks
// between entries of a YAML block scalar vanish there and the list is served.
var elementTrimmedLists = map[string]bool{
	"allowlist-source-range": true, "whitelist-source-range": true, "denylist-source-range": true,
	"limit-allowlist": true, "limit-whitelist": true,
}

// readValue is the value as ingress-nginx reads it: every line trimmed and, for the lists
// whose parser trims each element, every element trimmed (empty elements are kept, so the
// validator still sees them). A line break that survives this is refused by the caller:
// it would be unsafe in an Envoy header or matcher.
func readValue(name, v string) string {
	v = normalize(v)
	if !elementTrimmedLists[name] {
		return v
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, ",")
}

// normalize trims every line of a value, as ingress-nginx's normalizeString.
func normalize(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return strings.TrimSpace(v)
	}
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// str returns a validated string value; ok is false when absent or invalid.
func (r *reader) str(name string) (string, bool) {
	v, ok := r.raw(name)
	if !ok {
		return "", false
	}
	spec, known := Lookup(name)
	if known {
		if err := spec.Validate(v); err != nil {
			r.invalid(name, v, err.Error()+acceptsSuffix(spec))
			return "", false
		}
	} else if err := rejectControlChars(v); err != nil {
		r.invalid(name, v, err.Error())
		return "", false
	}
	return v, true
}

// boolean returns a validated boolean value or def.
func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.str(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// optBool returns nil when absent or invalid.
func (r *reader) optBool(name string) *bool {
	v, ok := r.str(name)
	if !ok {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil
	}
	return &b
}

// integer returns a validated integer value or def.
func (r *reader) integer(name string, def int) int {
	v, ok := r.str(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

// optInt returns nil when absent or invalid.
func (r *reader) optInt(name string) *int {
	v, ok := r.str(name)
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	return &n
}

func acceptsSuffix(s Spec) string {
	if s.Accepts == "" {
		return ""
	}
	return "; accepted: " + s.Accepts
}

// invalid records an invalid value. Whether ingress-nginx falls back to the default,
// rejects the Ingress or denies the location is said by the caller through fallback notes.
func (r *reader) invalid(name, value, why string) {
	if rejectsIngress[name] {
		r.findings = append(r.findings, Finding{
			Annotation: name, Value: value, Level: levelOf(name), Invalid: true,
			Message: fmt.Sprintf("value %s; ingress-nginx rejects the whole Ingress for an invalid %s, so it is not converted", why, name),
		})
		r.rejected = true
		return
	}
	r.findings = append(r.findings, Finding{
		Annotation: name, Value: value, Level: levelOf(name), Invalid: true,
		Message: fmt.Sprintf("value %s; ignored, the default applies", why),
	})
}

// invalidClosed records an invalid security-sensitive value and fails the Ingress closed.
func (r *reader) invalidClosed(name, value, why string) {
	r.findings = append(r.findings, Finding{
		Annotation: name, Value: value, Level: levelOf(name), Invalid: true,
		Message: fmt.Sprintf("value %s; the Ingress is not served until this is fixed (fails closed)", why),
	})
	r.failClosed = append(r.failClosed, name)
}

// note records a finding about a valid annotation.
func (r *reader) note(name string, level Level, msg string) {
	r.findings = append(r.findings, Finding{Annotation: name, Value: r.values[name], Level: level, Message: msg})
}

func levelOf(name string) Level {
	if s, ok := Lookup(name); ok {
		return s.Level
	}
	return Unknown
}

// strClosed is str for security-sensitive values: an invalid value fails closed.
func (r *reader) strClosed(name string) (string, bool) {
	v, ok := r.values[name]
	if !ok {
		return "", false
	}
	r.seen[name] = true
	// Read as ingress-nginx does (a YAML block scalar's final line break is trimmed); a line
	// break left inside the value fails closed.
	clean := readValue(name, v)
	if err := rejectControlChars(clean); err != nil {
		r.invalidClosed(name, v, err.Error())
		return "", false
	}
	if clean == "" {
		r.invalidClosed(name, v, "is empty")
		return "", false
	}
	if spec, known := Lookup(name); known {
		if err := spec.Validate(clean); err != nil {
			r.invalidClosed(name, v, err.Error()+acceptsSuffix(spec))
			return "", false
		}
	}
	return clean, true
}

// warn records a finding about a valid value that a person should check.
func (r *reader) warn(name, msg string) {
	r.findings = append(r.findings, Finding{Annotation: name, Value: r.values[name], Level: levelOf(name), Warning: true, Message: msg})
}

// refuse records a refused annotation: the Ingress is not served natively.
func (r *reader) refuse(name, why string) {
	r.findings = append(r.findings, Finding{Annotation: name, Value: r.values[name], Level: Refused, Message: why})
	r.refused = append(r.refused, name)
}
