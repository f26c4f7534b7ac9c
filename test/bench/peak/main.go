// Command peak runs a command and measures its wall time and peak memory, split into what
// the process allocated and what it maps of its executable. hack/bench.sh measures with it.
//
// A Go process's resident set (peak RSS, what /usr/bin/time reports) counts two things:
// anonymous memory (the heap, stacks, the runtime's own) and the pages of files it maps,
// above all its executable's code and read-only data as they are touched. The second is
// shared with every other process running the same binary and can be dropped and read
// again by the kernel at any time; for gatebridge (one binary with its controller, its
// data plane and client-go linked in) it is ~35-45 MiB whatever the input. Reporting the
// two apart says which of them a change moved.
//
//	peak [-interval 2ms] [-trace] -o FILE -- COMMAND [ARG...]
//
// writes to FILE one line: WALL_S CPU_S MAXRSS_KB PEAK_ANON_KB PEAK_FILE_KB, where CPU_S
// is user plus system time, MAXRSS_KB the kernel's peak resident set (getrusage, exact,
// as /usr/bin/time's %M) and the other two are the highest
// RssAnon and RssFile of /proc/PID/status seen while polling every interval (a peak
// shorter than the interval can be missed, so PEAK_ANON_KB + PEAK_FILE_KB can be a little
// below MAXRSS_KB). The command's stdin, stdout and stderr are its own. -trace prints
// every sample on stderr (milliseconds, RssAnon, RssFile).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

func main() {
	interval := flag.Duration("interval", 2*time.Millisecond, "how often /proc/PID/status is read")
	trace := flag.Bool("trace", false, "print every sample on stderr")
	out := flag.String("o", "", "file the measurement is written to")
	flag.Parse()
	if flag.NArg() == 0 || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: peak [-interval D] [-trace] -o FILE -- COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "peak:", err)
		os.Exit(2)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peakAnon, peakFile int64
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	var err error
poll:
	for {
		if anon, file, ok := residentKB(status); ok {
			peakAnon, peakFile = max(peakAnon, anon), max(peakFile, file)
			if *trace {
				fmt.Fprintf(os.Stderr, "peak: %d ms anon %d KB file %d KB\n", time.Since(start).Milliseconds(), anon, file)
			}
		}
		select {
		case err = <-done:
			break poll
		case <-tick.C:
		}
	}
	wall := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peak:", err)
		if exit, ok := err.(*exec.ExitError); ok {
			os.Exit(exit.ExitCode())
		}
		os.Exit(2)
	}
	var maxRSS int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxRSS = ru.Maxrss // KB on Linux
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	line := fmt.Sprintf("%.3f %.3f %d %d %d\n", wall.Seconds(), cpu.Seconds(), maxRSS, peakAnon, peakFile)
	if err := os.WriteFile(*out, []byte(line), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "peak:", err)
		os.Exit(2)
	}
}

// residentKB reads RssAnon and RssFile (KB) from a /proc/PID/status file; ok is false
// once the process is gone (or before its status says it).
func residentKB(path string) (anon, file int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	var gotAnon, gotFile bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, found := bytes.Cut(sc.Bytes(), []byte(":"))
		if !found {
			continue
		}
		switch string(name) {
		case "RssAnon":
			anon, gotAnon = kb(value), true
		case "RssFile":
			file, gotFile = kb(value), true
		}
	}
	return anon, file, gotAnon && gotFile
}

// kb parses a /proc status value such as "  1234 kB".
func kb(v []byte) int64 {
	f := bytes.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(string(f[0]), 10, 64)
	return n
}
