package validation

// NewLibraryCEL is the validator of the embedded CRDs with the CEL validators exactly as
// the library builds them (no memoised schema lookups), to compare against.
func NewLibraryCEL() (*Validator, error) { return newValidator(embeddedCRDs, true) }

// SchemaMemoisationInstalls reports whether memoiseSchemas finds the library's
// activation factory field.
func SchemaMemoisationInstalls() bool {
	_, ok := activationFactoryOffset()
	return ok
}
