package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
)

// testEvent is one line of `go tool test2json`.
type testEvent struct {
	Action  string
	Test    string
	Elapsed float64
	Output  string
}

// testResult is how one of the suite's tests ended.
type testResult struct {
	action  string // pass, fail, skip
	elapsed time.Duration
	skipped string // the suite's reason, for skips
}

// runSuite runs the compiled suite with the official flags, streams its test2json events
// into suite.log, prints each test's end, and returns the results by test short name.
func runSuite(ctx context.Context, bin, moduleDir, kubeconfig string, o options) (map[string]testResult, error) {
	version := gatebridgeVersion(filepath.Dir(filepath.Dir(moduleDir)))
	args := []string{
		"-test.v=test2json",
		"-test.run=^TestConformance$",
		"-test.count=1",
		"-test.timeout=" + o.timeout.String(),
		"--gateway-class=" + o.gatewayClass,
		"--conformance-profiles=" + o.profiles,
		"--report-output=" + o.report,
		"--organization=gatebridge-dev",
		"--project=gatebridge",
		"--url=https://github.com/gatebridge-dev/gatebridge",
		"--version=" + version,
		"--contact=https://github.com/gatebridge-dev/gatebridge/issues",
		// The harness throws the cluster away afterwards.
		"--cleanup-base-resources=false",
	}
	args = append(args, o.suiteArgs...)
	logf("suite flags: %s", strings.Join(args[4:], " "))
	_ = os.Remove(o.report)

	suiteCmd := exec.CommandContext(ctx, bin, args...)
	suiteCmd.Dir = moduleDir
	suiteCmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "GATEBRIDGE_CONFORMANCE=1")
	suiteCmd.Stderr = os.Stderr
	conv := exec.CommandContext(ctx, "go", "tool", "test2json", "-t", "-p", "conformance")
	conv.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	var err error
	if conv.Stdin, err = suiteCmd.StdoutPipe(); err != nil {
		return nil, err
	}
	events, err := conv.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(o.workDir, "suite.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	if err := conv.Start(); err != nil {
		return nil, fmt.Errorf("go tool test2json: %w", err)
	}
	if err := suiteCmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the suite: %w", err)
	}

	results := map[string]testResult{}
	lastOutput := map[string]string{}
	var topOutput []string
	sc := bufio.NewScanner(events)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			fmt.Fprintln(logFile, sc.Text())
			continue
		}
		if ev.Output != "" {
			logFile.WriteString(ev.Output)
		}
		name, sub := strings.CutPrefix(ev.Test, "TestConformance/")
		if !sub {
			if ev.Test == "TestConformance" && ev.Output != "" {
				topOutput = append(topOutput, ev.Output)
				if len(topOutput) > 40 {
					topOutput = topOutput[1:]
				}
			}
			continue
		}
		name, _, _ = strings.Cut(name, "/") // a test's own subtests count for the test
		if ev.Test != "TestConformance/"+name {
			continue
		}
		switch ev.Action {
		case "output":
			if strings.Contains(ev.Output, "Skipping") {
				lastOutput[name] = ev.Output
			}
		case "pass", "fail", "skip":
			r := testResult{action: ev.Action, elapsed: time.Duration(ev.Elapsed * float64(time.Second))}
			if ev.Action == "skip" {
				r.skipped = skipReason(lastOutput[name])
			} else {
				logf("%s %s (%s)", strings.ToUpper(ev.Action), name, r.elapsed.Round(10*time.Millisecond))
			}
			results[name] = r
		}
	}
	suiteErr := suiteCmd.Wait()
	_ = conv.Wait()
	if suiteErr != nil && len(results) == 0 {
		logf("the suite stopped before running any test; its last lines:")
		for _, l := range topOutput {
			fmt.Print("    " + l)
		}
	}
	if suiteErr != nil {
		return results, fmt.Errorf("the suite failed (%v); full output in %s", suiteErr, logFile.Name())
	}
	return results, nil
}

var skipRE = regexp.MustCompile(`Skipping \S+: (.*)`)

// skipReason shortens the suite's "Skipping X: suite does not support Y" to its reason.
func skipReason(line string) string {
	m := skipRE.FindStringSubmatch(line)
	if m == nil {
		return "skipped"
	}
	return strings.TrimSpace(m[1])
}

// gatebridgeVersion is the report's implementation version: the checkout's git describe.
func gatebridgeVersion(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return "dev"
}

// row is one line of the result table.
type row struct {
	test, feature, result string
	core                  bool
}

var profiles = map[string]suite.ConformanceProfile{
	string(suite.GatewayHTTPConformanceProfileName): suite.GatewayHTTPConformanceProfile,
	string(suite.GatewayTLSConformanceProfileName):  suite.GatewayTLSConformanceProfile,
	string(suite.GatewayGRPCConformanceProfileName): suite.GatewayGRPCConformanceProfile,
}

// tableRows lists every test of the profiles in the suite's order: its extended features
// ("core" when it needs none) and its result.
func tableRows(profileNames string, results map[string]testResult) []row {
	var selected []suite.ConformanceProfile
	for name := range strings.SplitSeq(profileNames, ",") {
		if p, ok := profiles[strings.TrimSpace(name)]; ok {
			selected = append(selected, p)
		}
	}
	var rows []row
	for _, t := range tests.ConformanceTests {
		for _, p := range selected {
			var extended []string
			in := true
			for _, f := range t.Features {
				switch {
				case p.CoreFeatures.Has(f):
				case p.ExtendedFeatures.Has(f):
					extended = append(extended, string(f))
				default:
					in = false
				}
			}
			if !in {
				continue
			}
			r := row{test: t.ShortName, feature: "core", core: len(extended) == 0, result: resultText(results, t.ShortName)}
			if len(extended) > 0 {
				slices.Sort(extended)
				r.feature = strings.Join(extended, ",")
			}
			rows = append(rows, r)
			break
		}
	}
	return rows
}

func resultText(results map[string]testResult, name string) string {
	r, ok := results[name]
	switch {
	case !ok:
		return "not run"
	case r.action == "pass":
		return "pass"
	case r.action == "fail":
		return "FAIL"
	default:
		return "skipped: " + r.skipped
	}
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TEST\tFEATURE\tRESULT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.test, r.feature, r.result)
	}
	tw.Flush()
	fmt.Fprintln(w, summary(rows))
}

// summary counts results for core and extended tests.
func summary(rows []row) string {
	type counts struct{ total, pass, fail, skip, notRun int }
	var core, ext counts
	for _, r := range rows {
		c := &ext
		if r.core {
			c = &core
		}
		c.total++
		switch {
		case r.result == "pass":
			c.pass++
		case r.result == "FAIL":
			c.fail++
		case r.result == "not run":
			c.notRun++
		default:
			c.skip++
		}
	}
	f := func(name string, c counts) string {
		return fmt.Sprintf("%s %d/%d passed (%d failed, %d skipped, %d not run)", name, c.pass, c.total, c.fail, c.skip, c.notRun)
	}
	return f("core", core) + "; " + f("extended", ext)
}

// writeMarkdownTable writes the table for the README.
func writeMarkdownTable(path string, rows []row) error {
	var b strings.Builder
	b.WriteString("| Test | Feature | Result |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.test, r.feature, r.result)
	}
	b.WriteString("\n" + summary(rows) + "\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
