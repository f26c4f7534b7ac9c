// Package sources reads the objects gatebridge converts — Ingresses, IngressClasses,
// Services, Secrets, the ingress-nginx ConfigMap — from files, directories, standard input
// or a live cluster, into a converters.Input.
//
// Reading is forgiving: a document that does not decode becomes a Problem naming the file,
// the document and the error, and every other document is still read. YAML is split into
// documents first and decoded on all cores (YAML decoding is the slowest step there is);
// JSON skips the YAML step. Kinds gatebridge does not read are counted and ignored.
package sources
