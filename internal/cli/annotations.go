package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/report"
)

func runAnnotations(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gatebridge annotations", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("o", "table", "output format: table, json, markdown")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if err := report.RenderCatalog(stdout, annotations.Catalog(), *output); err != nil {
		fmt.Fprintf(stderr, "gatebridge annotations: %v\n", err)
		return exitUsage
	}
	return exitOK
}
