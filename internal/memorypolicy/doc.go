// Package memorypolicy is how gatebridge's long-running processes — `gatebridge
// controller` and `gatebridge run` — pace the garbage collector, and the memory limit
// they keep under in a container, and the tighter pace of a burst: building the data
// plane's configuration from nothing. The data plane benchmarks apply it too, so that the
// control-plane memory they report is what those processes hold.
package memorypolicy
