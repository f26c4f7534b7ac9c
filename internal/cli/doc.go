// Package cli holds the commands of gatebridge that need neither the data plane nor the
// controller — convert, report, annotations, version — so that the command-line binary
// (cmd/gatebridge) links only the converter: its start, its executable's pages and its
// peak memory are the converter's (cmd/gatebridge's doc comment gives the figures).
// gatebridge-server (cmd/gatebridge-server) runs the same commands through Run, and its
// own: run, controller and envoy-bootstrap.
package cli
