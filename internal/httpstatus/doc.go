// Package httpstatus knows which error status codes Envoy can answer with where its
// configuration takes an enumerated status (envoy.type.v3.StatusCode: the local rate
// limiter's status, for one). ingress-nginx takes any code from 400 to 599 there (nginx's
// limit_req_status), Envoy only the standard ones: a code it does not know in a route's
// typed configuration makes it refuse the whole route table. The converter (which does
// not link Envoy's API) and the data plane both ask here.
package httpstatus
