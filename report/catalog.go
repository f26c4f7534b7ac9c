package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

const catalogNoteWidth = 90 // runes of the note in the table form

// levelOrder lists the support levels from best to worst.
var levelOrder = []annotations.Level{annotations.Exact, annotations.Approximate, annotations.Ignored,
	annotations.Unsupported, annotations.Refused, annotations.Legacy, annotations.Unknown}

// RenderCatalog writes the annotation catalog in format: "table", "json" or "markdown".
// Specs are written in the order given (annotations.Catalog sorts them by family, then
// name); names are without prefix. Nothing is written when an error is returned.
func RenderCatalog(w io.Writer, specs []annotations.Spec, format string) error {
	var buf bytes.Buffer
	var err error
	switch format {
	case "table":
		err = catalogTable(&buf, specs)
	case "json":
		err = catalogJSON(&buf, specs)
	case "markdown":
		err = catalogMarkdown(&buf, specs)
	default:
		return unknownFormat(format, CatalogFormats)
	}
	if err != nil {
		return fmt.Errorf("rendering the catalog as %s: %w", format, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func catalogTable(w io.Writer, specs []annotations.Spec) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFAMILY\tLEVEL\tRISK\tNOTE")
	for _, s := range specs {
		risk := string(s.Risk)
		if risk == "" {
			risk = "-"
		}
		note := s.Note
		if s.AliasOf != "" {
			note = "alias of " + s.AliasOf + "; " + note
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", clean(s.Name, false), clean(s.Family, false), clean(string(s.Level), false),
			clean(risk, false), truncate(clean(note, false), catalogNoteWidth))
	}
	return tw.Flush()
}

func catalogJSON(w io.Writer, specs []annotations.Spec) error {
	if specs == nil {
		specs = []annotations.Spec{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(specs)
}

func catalogMarkdown(w io.Writer, specs []annotations.Spec) error {
	ew := &errWriter{w: w}
	ew.printf("# gatebridge annotation catalog\n\n")
	ew.printf("Names are relative to the annotations prefix (ingress-nginx's default is %s). ", mdCode(annotations.DefaultPrefix+"/"))
	ew.printf("Level says how faithfully gatebridge reproduces the annotation.\n")
	// Families in order of first appearance, so the input order is kept.
	var families []string
	byFamily := map[string][]annotations.Spec{}
	for _, s := range specs {
		if _, seen := byFamily[s.Family]; !seen {
			families = append(families, s.Family)
		}
		byFamily[s.Family] = append(byFamily[s.Family], s)
	}
	for _, f := range families {
		title := f
		if title == "" {
			title = "other"
		}
		ew.printf("\n## %s\n\n| Name | Level | Default | Accepts | Note | Target |\n|---|---|---|---|---|---|\n", mdText(title))
		for _, s := range byFamily[f] {
			name := mdCodeCell(s.Name)
			if s.AliasOf != "" {
				name += " (alias of " + mdCodeCell(s.AliasOf) + ")"
			}
			ew.printf("| %s | %s | %s | %s | %s | %s |\n", name, mdText(string(s.Level)), mdOptCode(s.Default),
				mdText(s.Accepts), mdText(s.Note), mdText(s.Target))
		}
	}
	levels := map[annotations.Level]int{}
	for _, s := range specs {
		levels[s.Level]++
	}
	ew.printf("\n## Counts\n\n%d annotations.\n\n", len(specs))
	for _, l := range levelOrder {
		if n, ok := levels[l]; ok {
			ew.printf("- %s: %d\n", mdText(string(l)), n)
			delete(levels, l)
		}
	}
	var rest []string // levels not in levelOrder, if any
	for l := range levels {
		rest = append(rest, string(l))
	}
	sort.Strings(rest)
	for _, l := range rest {
		ew.printf("- %s: %d\n", mdText(l), levels[annotations.Level(l)])
	}
	return ew.err
}

// mdOptCode is a code span in a table cell, or nothing for "".
func mdOptCode(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return mdCodeCell(s)
}
