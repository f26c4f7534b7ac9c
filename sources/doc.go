// Package sources reads the objects gatebridge converts — Ingresses, IngressClasses,
// Services, Secrets, the ingress-nginx ConfigMap — from files, directories, standard input
// or a live cluster, into a converters.Input.
//
// Reading is forgiving: a document that does not decode becomes a Problem naming the file,
// the document, the object and, in the manifest's terms, the field and what is wrong with
// it (spec.rules: expected a list, got a string), and every other document is still read.
// A file that is one JSON value (kubectl get -o json) is read as JSON, item by item; any
// other file is a YAML stream, read a window at a time, cut into documents as it is read
// and decoded on all cores a batch at a time (stream.go). YAML decoding was the slowest
// step there is: block YAML as manifests are written goes through a fast path to JSON
// (fastyaml.go), everything else through sigs.k8s.io/yaml, with the same result. Kinds gatebridge does not read are counted and
// ignored — unless they look like a misspelling of one it reads (networking.k8s/v1,
// kind: ingress), which is a Problem suggesting the kind meant. An object defined twice is
// kept once, the later definition, as kubectl apply would, with a Problem naming both.
// A file or a document over the size limits (Options) is a Problem, not read.
package sources
