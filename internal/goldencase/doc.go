// Package goldencase reads the options line of a converter golden case
// (converters/testdata/<case>.in.yaml), so that the golden test and the API-server test that
// creates every golden output convert each case with the same options:
//
//	# gatebridge: ingress-class=foo include-unclassed=true max-listeners=3 configmap=ns/name
//
// It is for tests only; it holds no conversion logic.
package goldencase
