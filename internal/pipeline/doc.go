// Package pipeline joins the two halves of gatebridge for the file front door: it converts
// the Ingresses read from files into Gateway API objects and puts them, with the Gateway API
// objects, Services, EndpointSlices and Secrets found in the same input, into one data-plane
// Model. Build is a pure function; a Reloader repeats it over the same paths, decoding only
// the files that changed; a Server publishes what a Reloader builds to a data plane and
// watches the files, with the reload policy of `gatebridge run` (endpoints only when only
// endpoints changed, the last good configuration kept, writes settled, Envoy's ACK awaited),
// which the end-to-end tests share.
//
// The seam between the halves is the Snapshot (the objects to serve and what changed:
// everything, or endpoints only) and the Publisher, its one publish path: the file front
// door (Server) and the cluster's (controllers.Feed, from informer events) both build
// Snapshots and publish them through a Publisher, so `gatebridge run`, the end-to-end tests
// and `gatebridge controller` share the policy of what is translated again, what is kept
// when publishing fails, and when a version counts as served.
package pipeline
