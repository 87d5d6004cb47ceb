package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

func TestDigTraceText(t *testing.T) {
	tree := dnstest.StartTree(t)
	roots := fmt.Sprintf("%s:%d", tree.RootIP, tree.Port)
	out, stderr, code := runCLI(t, "dig", "--trace", "--roots", roots, "www.example.test")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"a.root.test.\n",
		fmt.Sprintf("from 127.0.0.10#%d(127.0.0.10)", tree.Port),
		"test.\t\t\t3600\tIN\tNS\tns.tld.test.\n",
		fmt.Sprintf("from 127.0.0.11#%d(ns.tld.test.)", tree.Port),
		"www.example.test.\t3600\tIN\tA\t192.0.2.80\n",
		fmt.Sprintf("from 127.0.0.12#%d(ns1.example.test.)", tree.Port),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDigTraceAllServersJSONAndExitStatus(t *testing.T) {
	tree := dnstest.StartTree(t)
	roots := fmt.Sprintf("%s:%d", tree.RootIP, tree.Port)
	out, _, code := runCLI(t, "dig", "+trace", "--all-servers", "--roots", roots, "www.example.test", "--json")
	if code != ExitFailure {
		t.Errorf("exit %d with disagreeing servers, want %d", code, ExitFailure)
	}
	var res dnsq.TraceResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	kinds := map[string]bool{}
	for _, f := range res.Findings {
		kinds[f.Kind] = true
	}
	if !kinds["answer_differs"] || !kinds["serial_differs"] || len(res.Steps) != 4 {
		t.Errorf("findings %+v, %d steps: want answer_differs and serial_differs over 4 steps", res.Findings, len(res.Steps))
	}
	// A healthy path exits 0 and says so.
	out, _, code = runCLI(t, "dig", "--trace", "--all-servers", "--roots", roots, "www.glueless.test")
	if code != 0 || !strings.Contains(out, "every name server on the path answered and agreed") || !strings.Contains(out, "ns.hoster.net. has no glue") {
		t.Errorf("exit %d, output:\n%s\nwant 0, agreement, and the glueless note", code, out)
	}
}
