// Package bench holds the benchmarks and the input generator behind gatebridge's conversion
// figures: Generate builds N Ingresses (2 paths, TLS, 3 annotations, spread over 200
// namespaces) with their Services, WriteYAML and WriteJSON write them as input files for the
// whole-command measurements of hack/bench.sh, and the benchmarks measure the converter
// in-process on decoded objects and together with the file loader.
package bench
