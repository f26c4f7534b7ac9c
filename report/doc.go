// Package report renders a converters.Report and the annotation catalog for people and
// machines: a terminal table, JSON, Markdown and a self-contained HTML page.
//
// Every renderer is a pure function writing to an io.Writer: no network, no clock, no
// randomness, no environment. The same input always gives the same bytes, so reports can
// be diffed, committed and compared in CI. The HTML page loads nothing from anywhere (no
// fonts, scripts, images or style sheets beyond its own inline CSS) and escapes every
// value with html/template. Text from Ingresses (names, annotation values, messages) is
// untrusted: the table, Markdown and HTML renderers show control and bidirectional
// formatting characters as escapes instead of passing them to a terminal or a browser.
//
// The JSON form is documented in docs/report-schema.md.
package report
