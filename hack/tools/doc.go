// Package tools pins the versions of the developer tools gatebridge builds with
// (controller-gen, staticcheck). Run them with `go tool -modfile=hack/tools/go.mod NAME`.
package tools
