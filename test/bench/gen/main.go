// Command gen writes the generated benchmark input (see package bench) to a file or stdout.
//
//	go run ./test/bench/gen -n 5000 -format yaml -o .cache/bench/5000.yaml
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gatebridge-dev/gatebridge/test/bench"
)

func main() {
	n := flag.Int("n", 1000, "number of Ingresses (each with its Service)")
	format := flag.String("format", "yaml", "output format: yaml (multi-document) or json (v1 List)")
	out := flag.String("o", "-", "output file, - for stdout")
	flag.Parse()
	if err := run(*n, *format, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(n int, format, out string) error {
	if n < 0 {
		return fmt.Errorf("-n must be >= 0, got %d", n)
	}
	var write func(io.Writer, int) error
	switch format {
	case "yaml":
		write = bench.WriteYAML
	case "json":
		write = bench.WriteJSON
	default:
		return fmt.Errorf("-format must be yaml or json, got %q", format)
	}
	if out == "-" {
		return write(os.Stdout, n)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := write(f, n); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
