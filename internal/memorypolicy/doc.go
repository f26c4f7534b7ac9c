// Package memorypolicy is how gatebridge's long-running processes — `gatebridge
// controller` and `gatebridge run` — pace the garbage collector, and the memory limit
// they keep under in a container. The data plane benchmarks apply it too, so that the
// control-plane memory they report is what those processes hold.
package memorypolicy
