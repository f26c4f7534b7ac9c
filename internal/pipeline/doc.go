// Package pipeline joins the two halves of gatebridge for the file front door: it converts
// the Ingresses read from files into Gateway API objects and puts them, with the Gateway API
// objects, Services, EndpointSlices and Secrets found in the same input, into one data-plane
// Model. Build is a pure function; a Reloader repeats it over the same paths, decoding only
// the files that changed, for `gatebridge run`.
package pipeline
