package converters

// ConvertAsOnePart converts with every Ingress in one part, as the conversion was before
// parts: TestPartsChangeNothing compares it with Convert.
func ConvertAsOnePart(in Input, opts Options) Result {
	res, _ := convert(in, opts.withDefaults(), nil, nil, modeOnePart)
	return res
}
