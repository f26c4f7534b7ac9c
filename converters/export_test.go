package converters

// ConvertAsOnePart converts with every Ingress in one part, as the conversion was before
// parts: TestPartsChangeNothing compares it with Convert.
func ConvertAsOnePart(in Input, opts Options) Result {
	res, _ := convert(in, opts.withDefaults(), nil, nil, modeOnePart)
	return res
}

// One Ingress making two objects of one name is a converter bug: the package's tests and
// fuzzing panic on it (dropDuplicates).
func init() { panicOnOwnDuplicate = true }

// SetReanalyseMinParts sets the number of parts from which a streaming conversion analyses
// each part twice, and returns a function that restores it.
func SetReanalyseMinParts(n int) (restore func()) {
	old := reanalyseMinParts
	reanalyseMinParts = n
	return func() { reanalyseMinParts = old }
}
