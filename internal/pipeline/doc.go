// Package pipeline joins the two halves of gatebridge for the file front door: it converts
// the Ingresses read from files into Gateway API objects and puts them, with the Gateway API
// objects, Services, EndpointSlices and Secrets found in the same input, into one data-plane
// Model. It holds no state and does no I/O beyond what sources does.
package pipeline
