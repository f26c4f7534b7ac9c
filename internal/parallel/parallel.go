// Package parallel runs independent pieces of work on all cores. Results are written by
// index, so callers keep a deterministic order whatever the scheduling.
package parallel

import (
	"runtime"
	"sync"
)

// For calls fn(i) for every i in [0, n), on GOMAXPROCS goroutines, and returns when all
// calls have returned. fn must only write to its own index of shared results.
func For(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, 64)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
